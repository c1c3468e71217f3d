/**
 * Base oblivious transfer: the "simplest OT" of Chou and Orlandi (LATINCRYPT 2015) over the
 * prime-order group ristretto255 (@noble/curves), batched, in its random-OT form.
 *
 * Sender: a random, A = aG, sends A. Receiver with choice c: b random, B = bG + cA, sends B.
 * Keys: the receiver gets H(A, B, bA); the sender gets k0 = H(A, B, aB) and
 * k1 = H(A, B, a(B - A)), one of which equals the receiver's (aB = abG + caA).
 *
 * Security: semi-honest, under computational Diffie-Hellman in the random-oracle model (H is
 * SHA-256 over a domain tag, the OT index and the transcript). B is uniform whatever c is, so the
 * sender learns nothing about c; the receiver cannot compute a(B - A) for c = 0 nor aB for c = 1
 * without solving CDH. (The known caveats of this protocol concern malicious or UC settings;
 * ristretto255 has prime order, so there are no small-subgroup issues.) The keys serve as PRG
 * seeds for IKNP, which needs random OTs only.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ristretto255 } from "@noble/curves/ed25519.js";
import type { Channel } from "../channel.ts";
import type { Prg } from "../prg.ts";

const Point = ristretto255.Point;
type Point = InstanceType<typeof Point>;
const POINT_BYTES = 32;
const TAG = new TextEncoder().encode("safenet-lab/ot/co15");

/** Message kinds of the base OT. */
export const BASE_OT_KINDS = { a: "ot.base.a", b: "ot.base.b" } as const;

function randomScalar(prg: Prg): bigint {
  // 64 bytes reduced mod the group order: bias below 2^-250.
  let x = 0n;
  for (const byte of prg.bytes(64)) x = (x << 8n) | BigInt(byte);
  const s = x % Point.Fn.ORDER;
  return s === 0n ? 1n : s;
}

function decodePoint(bytes: Uint8Array, what: string): Point {
  let p: Point;
  try {
    p = Point.fromBytes(bytes);
  } catch (e) {
    throw new Error(`base OT: ${what} is not a valid ristretto255 encoding (${(e as Error).message})`);
  }
  if (p.is0()) throw new Error(`base OT: ${what} is the identity point; the peer is misbehaving`);
  return p;
}

function kdf(index: number, a: Uint8Array, b: Uint8Array, shared: Point): Uint8Array {
  const h = createHash("sha256");
  const idx = new Uint8Array(4);
  new DataView(idx.buffer).setUint32(0, index);
  h.update(TAG).update(idx).update(a).update(b).update(shared.toBytes());
  return new Uint8Array(h.digest().subarray(0, 16));
}

/**
 * Random OT, sender side: `count` pairs of 16-byte keys, of which the receiver learns one each.
 * Sends "ot.base.a", receives "ot.base.b".
 */
export async function baseOtSend(
  ch: Channel,
  count: number,
  prg: Prg,
): Promise<{ k0: Uint8Array[]; k1: Uint8Array[] }> {
  const a = randomScalar(prg);
  const bigA = Point.BASE.multiply(a);
  const aBytes = bigA.toBytes();
  await ch.send(BASE_OT_KINDS.a, aBytes);
  const msg = await ch.recv(BASE_OT_KINDS.b);
  if (msg.length !== count * POINT_BYTES) {
    throw new Error(
      `base OT: expected ${count} points (${count * POINT_BYTES} bytes), got ${msg.length} bytes`,
    );
  }
  const aA = bigA.multiply(a);
  const k0: Uint8Array[] = [], k1: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const bBytes = msg.subarray(i * POINT_BYTES, (i + 1) * POINT_BYTES);
    const aB = decodePoint(bBytes, `B[${i}]`).multiply(a);
    k0.push(kdf(i, aBytes, bBytes, aB));
    k1.push(kdf(i, aBytes, bBytes, aB.subtract(aA)));
  }
  return { k0, k1 };
}

/**
 * Random OT, receiver side: for each choice bit (0/1), the sender's key of that index.
 * Receives "ot.base.a", sends "ot.base.b".
 */
export async function baseOtReceive(ch: Channel, choices: Uint8Array, prg: Prg): Promise<Uint8Array[]> {
  const aBytes = await ch.recv(BASE_OT_KINDS.a);
  if (aBytes.length !== POINT_BYTES) {
    throw new Error(`base OT: A must be ${POINT_BYTES} bytes, got ${aBytes.length}`);
  }
  const bigA = decodePoint(aBytes, "A");
  const out = new Uint8Array(choices.length * POINT_BYTES);
  const secrets: bigint[] = [];
  choices.forEach((c, i) => {
    if (c !== 0 && c !== 1) throw new RangeError(`base OT: choice ${i} is ${c}, not 0 or 1`);
    const b = randomScalar(prg);
    secrets.push(b);
    const bigB = c === 1 ? Point.BASE.multiply(b).add(bigA) : Point.BASE.multiply(b);
    out.set(bigB.toBytes(), i * POINT_BYTES);
  });
  await ch.send(BASE_OT_KINDS.b, out);
  return secrets.map((b, i) =>
    kdf(i, aBytes, out.subarray(i * POINT_BYTES, (i + 1) * POINT_BYTES), bigA.multiply(b))
  );
}
