// The reconnect module's rules, checked with Node's own test runner: `node --test js/browser/`.
// The Rust test `reconnect_module_rules_pass_node_test` runs this file; the browser tests run the
// module in Chromium against a server that closes with each code.

import assert from "node:assert/strict";
import { test } from "node:test";
import { backoff, shouldRetry } from "./reconnect.mjs";

test("retries the endings a retry can cure", () => {
  for (const code of [1001, 1006, 1011, 1012, 1013]) assert.equal(shouldRetry(code), true, `${code}`);
});

test("does not retry a normal closure, a policy violation or the application's own codes", () => {
  for (const code of [1000, 1008, 4000, 4001, 4500, 4999]) assert.equal(shouldRetry(code), false, `${code}`);
});

test("does not retry protocol and data errors", () => {
  for (const code of [1002, 1003, 1007, 1009, 1010, 1015]) assert.equal(shouldRetry(code), false, `${code}`);
});

test("full jitter stays between 0 and the doubling cap", () => {
  const options = { base: 100, cap: 1000 };
  assert.equal(backoff(0, { ...options, random: () => 0 }), 0);
  assert.equal(backoff(0, { ...options, random: () => 0.999999 }) < 100, true);
  assert.equal(backoff(3, { ...options, random: () => 0.5 }), 400); // 0.5 × 100 × 2³
  assert.equal(backoff(10, { ...options, random: () => 0.5 }), 500); // 0.5 × the cap
  for (let attempt = 0; attempt < 40; attempt++) {
    const wait = backoff(attempt, options);
    assert.ok(wait >= 0 && wait < 1000, `attempt ${attempt}: ${wait}`);
  }
});
