/**
 * The first exchange of a session: each side sends a hello (role, protocol version, session
 * description) and checks the peer's against its own, so that mismatched runs (other model,
 * plan or fixed-point settings) fail at once with a message listing every difference, on
 * both sides, instead of producing garbage or a hang later.
 *
 * @module
 */

import type { Channel } from "../channel.ts";
import { TransportError } from "./frame.ts";
import { printable } from "./disclosure.ts";

/** Version of the protocol's message sequence (not the frame format); bump on incompatible changes. */
export const PROTOCOL_VERSION = 1;
/** The message kind of a hello. */
export const HELLO_KIND = "hello";

/** A value in a session description. */
export type SessionValue = string | number | boolean;
/** Which side a party plays. */
export type Role = "client" | "server";

/** What each side announces. */
export interface Hello {
  /** The sender's role. */
  role: Role;
  /** The sender's PROTOCOL_VERSION. */
  protocolVersion: number;
  /** Facts both sides must agree on, e.g. model name, plan hash, fixed-point bits. */
  session: Record<string, SessionValue>;
}

function parseHello(payload: Uint8Array): Hello | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(payload));
    const valid = (value.role === "client" || value.role === "server") &&
      Number.isInteger(value.protocolVersion) &&
      typeof value.session === "object" && value.session !== null && !Array.isArray(value.session);
    return valid ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Longest session key and value printed, in characters: the peer's hello is its own text. */
const MAX_SHOWN_CHARS = 80;
/** Most differences listed in a mismatch message. */
const MAX_SHOWN_DIFFERENCES = 12;

function show(value: SessionValue | undefined): string {
  return value === undefined ? "nothing" : printable(JSON.stringify(value), MAX_SHOWN_CHARS);
}

/**
 * Sends this side's hello, receives the peer's, and checks roles (one client, one server),
 * protocol version and every session key. Resolves to the peer's hello; throws a
 * TransportError with code "handshake" naming each mismatch. The peer runs the same check on
 * its side and fails with the mirror-image message; the caller closes the channel either way.
 */
export async function handshake(
  channel: Channel,
  role: Role,
  session: Record<string, SessionValue>,
  options: { protocolVersion?: number } = {},
): Promise<Hello> {
  const mine: Hello = { role, protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION, session };
  const peerRole: Role = role === "client" ? "server" : "client";
  await channel.send(HELLO_KIND, new TextEncoder().encode(JSON.stringify(mine)));
  const theirs = parseHello(await channel.recv(HELLO_KIND));
  const fail = (problem: string) =>
    new TransportError("handshake", `${role}: handshake with ${peerRole} failed: ${problem}`);
  if (!theirs) {
    throw fail(`the ${peerRole}'s hello is not a valid hello message; is it a SAFENet Lab ${peerRole}?`);
  }
  if (theirs.role === role) {
    throw fail(`both sides are ${role}s; run one server (deno task serve) and one client (deno task client)`);
  }
  if (theirs.protocolVersion !== mine.protocolVersion) {
    throw fail(
      `${role} speaks protocol version ${mine.protocolVersion}, ${peerRole} speaks ${theirs.protocolVersion}; ` +
        `run the same SAFENet Lab version on both sides`,
    );
  }
  const keys = [...new Set([...Object.keys(mine.session), ...Object.keys(theirs.session)])].sort();
  const differences = keys
    .filter((key) => mine.session[key] !== theirs.session[key])
    .map((key) =>
      `${printable(key, MAX_SHOWN_CHARS)}: ${role} has ${show(mine.session[key])}, ` +
      `${peerRole} has ${show(theirs.session[key])}`
    );
  if (differences.length > 0) {
    const more = differences.length - MAX_SHOWN_DIFFERENCES;
    const listed = differences.slice(0, MAX_SHOWN_DIFFERENCES).join("; ") +
      (more > 0 ? `; and ${more} more` : "");
    throw fail(
      `the sessions differ (${listed}); run both sides with the same model, weights, plan ` +
        `and fixed-point settings`,
    );
  }
  return theirs;
}
