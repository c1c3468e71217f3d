/**
 * What crosses between the two parties as text, in both directions:
 *
 * - Text from the peer (abort reasons, hello fields, message kinds, errors quoting its bytes)
 *   is printed through `printable`, which escapes control characters — a terminal escape code
 *   could otherwise clear the screen or fake a line of output — and caps its length.
 * - A local error is told to the peer only if it is a `PublicError`, whose message holds facts
 *   both sides may know (protocol version, plan or shape mismatch); any other error may name
 *   private facts (the server's weights, the client's input), so `abortReason` sends a
 *   generic line and the detail stays in this side's log.
 *
 * @module
 */

/** Longest text `printable` keeps by default, in characters: one field from the peer. */
export const MAX_PRINTED_CHARS = 1000;
/** Longest error line the programs print: room for this side's words around capped peer fields. */
export const MAX_LINE_CHARS = 4000;

/**
 * Control, format (bidirectional overrides, zero-width), separator and lone-surrogate
 * characters: none of them prints as itself on a terminal.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

function escape(char: string): string {
  const code = char.codePointAt(0)!;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/**
 * `text` made safe to print: unprintable characters (escape codes, newlines, bidirectional
 * overrides) written as `\xNN` or `\u{NNNN}`, and anything past `maxChars` characters cut off
 * with a note of how much was left out.
 */
export function printable(text: string, maxChars = MAX_PRINTED_CHARS): string {
  const cut = text.length > maxChars;
  const kept = cut ? text.slice(0, maxChars) : text;
  const safe = kept.replace(UNPRINTABLE, escape);
  return cut ? `${safe}... [${text.length - maxChars} more characters]` : safe;
}

/**
 * An error whose message holds only facts the peer may know (protocol version, plan or shape
 * mismatch, a malformed message from the peer itself), so it may be sent to the peer as the
 * abort reason. Throw it only where that is deliberately so.
 */
export class PublicError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PublicError";
  }
}

/**
 * The reason to send the peer after `error` ended `side`'s session: a PublicError's message,
 * else a generic line that points to `side`'s log, where the error itself belongs.
 */
export function abortReason(error: unknown, side: string): string {
  return error instanceof PublicError
    ? `the ${side} failed: ${error.message}`
    : `the ${side} failed (the reason is in the ${side}'s log)`;
}
