// What every program in js/ shares: its command line, the "listening on" line, the log lines,
// and the names of close codes. Nothing here is about WebSocket itself.
//
// Every program prints, as its first line on stdout, `listening on HOST:PORT`. Port 0 asks the
// system for any free port; the line says which one it got, so a test (or you) can read it back.

import { parseArgs } from "node:util";

/**
 * Reads the command line: `--port` (or the PORT environment variable; 0 = any free port) and
 * `--host`, plus the program's own options, in `node:util`'s `parseArgs` format.
 */
export function options(defaultPort, own = {}, help = "") {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: process.env.PORT ?? String(defaultPort) },
      host: { type: "string", default: "127.0.0.1" },
      help: { type: "boolean", default: false },
      ...own,
    },
  });
  if (values.help) {
    console.log(help.trim());
    process.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number from 0 to 65535, not ${values.port}`);
    process.exit(2);
  }
  return { ...values, port };
}

/** Starts `server` listening and prints `listening on HOST:PORT` once it is. */
export function listen(server, { host, port }) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      log.raw(`listening on ${host}:${address.port}`);
      resolve(address.port);
    });
  });
}

/**
 * One log line: who (padded to 9 characters, as the Rust servers' journals are) and what.
 * `console.log` to a pipe is synchronous on Linux, so lines come out in the order they happen.
 */
export function log(who, text) {
  console.log(`${who.padEnd(9)} ${text}`);
}
log.raw = (text) => console.log(text);

/** The name RFC 6455 §7.4.1 (and the IANA registry) gives a close code. */
export function closeName(code) {
  const names = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status received",
    1006: "abnormal closure",
    1007: "invalid frame payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
  };
  if (names[code]) return `${code} ${names[code]}`;
  if (code >= 3000 && code <= 3999) return `${code} registered for libraries and frameworks`;
  if (code >= 4000 && code <= 4999) return `${code} private use by applications`;
  return `${code} not a valid close code`;
}
