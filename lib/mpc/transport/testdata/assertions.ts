/**
 * Shared by the transport tests: deterministic payloads and a matcher for `TransportError`s.
 *
 * @module
 */
import assert from "node:assert/strict";
import { TransportError } from "../frame.ts";

/** `n` bytes that differ by position and seed, so a reordered or shifted payload is caught. */
export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

/** An `assert.rejects`/`throws` validator: a TransportError of `code` whose message has every fragment. */
export function isTransportError(code: string, ...fragments: string[]): (error: unknown) => true {
  return (error: unknown) => {
    assert.ok(error instanceof TransportError, `expected a TransportError, got ${error}`);
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), error.message);
    return true;
  };
}
