// Who is signed in, and how a request proves it: one function, `userOf`, that koa's middleware
// and the 'upgrade' handler both call. The upgrade never passes through koa, so sharing this
// function is how the two paths keep the same rules.

import { randomBytes } from "node:crypto";

/** The cookie that carries a session token. */
export const SESSION_COOKIE = "session";

/** The realm named in `WWW-Authenticate` challenges (RFC 9110 §11.6.1). */
export const REALM = "one-port";

/** Signed-in sessions: token → user name. */
export class Sessions {
  #users = new Map();

  /** Signs `user` in with a fresh random token (16 bytes: 128 bits, not guessable) and returns it. */
  create(user) {
    const token = randomBytes(16).toString("base64url");
    this.#users.set(token, user);
    return token;
  }

  /** Signs `user` in with a token chosen by the caller: tests use fixed tokens. */
  insert(token, user) {
    this.#users.set(token, user);
  }

  /** The user a token belongs to, or undefined. */
  user(token) {
    return this.#users.get(token);
  }

  /** Signs a token out. */
  remove(token) {
    this.#users.delete(token);
  }

  /** Loads `TOKEN=USER` pairs from the command line (`--session`). */
  static from(pairs = []) {
    const sessions = new Sessions();
    for (const pair of pairs) {
      const [token, user] = pair.split("=");
      if (!token || !user) throw new Error(`--session wants TOKEN=USER, not ${pair}`);
      sessions.insert(token, user);
    }
    return sessions;
  }
}

// ANCHOR: token_of
/**
 * The token a request carries: `Authorization: Bearer …` (what programs send), then the session
 * cookie (what browsers send by themselves; a page cannot add headers to a WebSocket).
 * `headers` is Node's `request.headers`: names in lower case.
 */
export function tokenOf(headers) {
  const authorization = headers.authorization ?? "";
  const [scheme, token] = authorization.trim().split(/\s+/, 2);
  // RFC 9110 §11.1: the scheme name is case-insensitive.
  if (scheme?.toLowerCase() === "bearer" && token) return token;
  // RFC 6265 §5.4: `Cookie: a=1; b=2`.
  for (const pair of (headers.cookie ?? "").split(";")) {
    const [name, ...value] = pair.trim().split("=");
    if (name === SESSION_COOKIE) return value.join("=").trim();
  }
  return undefined;
}

/** The signed-in user, or a 401's reason: `{ user }` or `{ refusal }`. */
export function userOf(sessions, headers) {
  const token = tokenOf(headers);
  if (token === undefined) {
    return {
      refusal:
        "sign in first: send the `session` cookie (a browser does, after POST /login) " +
        "or `Authorization: Bearer <token>`",
    };
  }
  const user = sessions.user(token);
  if (user === undefined) return { refusal: "that session token is unknown or signed out: sign in again" };
  return { user };
}
// ANCHOR_END: token_of
