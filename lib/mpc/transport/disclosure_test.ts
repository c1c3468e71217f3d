import assert from "node:assert/strict";
import { abortReason, MAX_PRINTED_CHARS, printable, PublicError } from "./disclosure.ts";
import { TransportError } from "./frame.ts";

Deno.test("printable escapes control, format and separator characters and keeps the rest", () => {
  assert.equal(printable("plain text, é, 漢字, emoji 🙂"), "plain text, é, 漢字, emoji 🙂");
  assert.equal(printable("\x1b[2J\x1b[H\r\n\t\x00\x7f\x9b"), "\\x1b[2J\\x1b[H\\x0d\\x0a\\x09\\x00\\x7f\\x9b");
  // Bidirectional override, zero-width space, line separator, a lone surrogate.
  assert.equal(printable("a\u202eb\u200bc\u2028d\ud800e"), "a\\u{202e}b\\u{200b}c\\u{2028}d\\u{d800}e");
});

Deno.test("printable caps the length and says how much was left out", () => {
  assert.equal(printable("x".repeat(MAX_PRINTED_CHARS)), "x".repeat(MAX_PRINTED_CHARS));
  assert.equal(
    printable("x".repeat(MAX_PRINTED_CHARS + 5)),
    `${"x".repeat(MAX_PRINTED_CHARS)}... [5 more characters]`,
  );
  assert.equal(printable("\x1b".repeat(10), 3), "\\x1b\\x1b\\x1b... [7 more characters]");
});

Deno.test("abortReason: a PublicError's message goes to the peer, anything else a generic line", () => {
  assert.equal(
    abortReason(new PublicError("the offer is malformed"), "client"),
    "the client failed: the offer is malformed",
  );
  for (
    const error of [
      new Error("linear: output channels 3, 17 of conv2 are all zero"),
      new TransportError("disconnected", "server: lost the connection"),
      "a string",
    ]
  ) {
    const reason = abortReason(error, "server");
    assert.equal(reason, "the server failed (the reason is in the server's log)");
  }
});
