import assert from "node:assert/strict";
import { Fp, P } from "../field.ts";
import { Prg } from "../prg.ts";
import {
  Fq,
  Fq2,
  liftClientVec,
  liftConstants,
  liftServerVec,
  MAX_TRUNCATION_BITS,
  Q,
  Q2,
  remaskMultiples,
  residueOfBig,
  residuesFromBytes,
  residuesOf,
  residuesOfBlocks,
  residuesToBytes,
  RING,
  RING_MODULUS,
  truncateToField,
} from "./ring.ts";

const prg = new Prg(new Uint8Array(16).fill(51));
const M = RING_MODULUS, PQ = BigInt(P) * BigInt(Q);
const floorDiv = (a: bigint, d: bigint) => (a >= 0n ? a / d : -((-a + d - 1n) / d));

Deno.test("ring: q and q2 are 41-bit primes with 2^14 | q_i - 1, above p", () => {
  for (const F of [Fq, Fq2]) {
    assert.equal((F.p - 1) % 16384, 0);
    assert.ok(F.p > P && F.bits === 41);
    for (const a of [2, 3, 5, 7]) assert.equal(F.pow(a, F.p - 1), 1);
  }
  assert.deepEqual(RING.map((F) => F.p), [P, Q, Q2]);
  assert.equal(MAX_TRUNCATION_BITS, 40);
});

/** The z in [0, M) with residues `r` (BigInt CRT). */
function crt(r: readonly number[]): bigint {
  let z = 0n;
  RING.forEach((F, i) => {
    const mi = BigInt(F.p), rest = M / mi;
    const inv = BigInt(F.inv(Number(rest % mi)));
    z += BigInt(r[i]) * rest * inv;
  });
  return z % M;
}

Deno.test("ring: truncateToField = floor(v / 2^k) mod p for v = z (z < pq) or z - M", () => {
  const zs: bigint[] = [0n, 1n, PQ - 1n, PQ, PQ + 1n, M - 1n, M / 2n];
  for (let i = 0; i < 300; i++) zs.push(crt(RING.map((F) => F.random(1, prg)[0])));
  for (const k of [0, 1, 8, 20, 36, 37, 38, 40]) {
    for (const z of zs) {
      const v = z < PQ ? z : z - M;
      const fl = floorDiv(v, 1n << BigInt(k));
      const want = Number(((fl % BigInt(P)) + BigInt(P)) % BigInt(P));
      assert.equal(truncateToField(residueOfBig(z), k), want, `k=${k} z=${z}`);
    }
  }
  assert.throws(() => truncateToField([0, 0, 0], 41), /shift must be an integer in \[0, 40\]/);
});

Deno.test("ring: the re-masking range fits the truncation window", () => {
  for (const k of [31, 40]) {
    const j = BigInt(remaskMultiples(k)), step = (1n << BigInt(k)) * BigInt(P);
    // X - R in [pq - M, pq) for |X| < 2^k p and R < 2^k p J, and J is the largest such.
    assert.ok(step * j <= M - PQ - step);
    assert.ok(step * (j + 1n) > M - PQ - step);
  }
  assert.ok(Math.log2(2 ** 40 * P * remaskMultiples(40)) > 122.8);
});

/** The lifted input: the server's and client's halves, and the cross term a v (protocol.ts). */
function lift(s: number, c: number, k: number): number {
  const high = new Float64Array(1), a = new Uint8Array(1), own = new Float64Array(1), v = new Float64Array(1);
  liftServerVec(Float64Array.of(s), k, high, a);
  liftClientVec(Float64Array.of(c), k, own, v);
  return high[0] + 1 - liftConstants(k).offsetHigh + own[0] - a[0] * v[0];
}

/** The lift before this fix: floor(s / 2^k) + 1 + floor((c - p) / 2^k), wrong when s + c wraps differently. */
const oldLift = (s: number, c: number, k: number) =>
  Math.floor(s / 2 ** k) + 1 + Math.floor((c - P) / 2 ** k);

Deno.test("ring: the lift is exact at the boundaries where the old one failed (|y| near the bound, s near H, 0, p)", () => {
  const { half } = liftConstants(0);
  let oldFailures = 0, cases = 0;
  for (const k of [0, 1, 5, 7, 18]) {
    const bound = Math.floor(P / 4) - 2 ** k - 1; // |y| < p/4 - 2^k
    const offset = liftConstants(k).offsetHigh * 2 ** k;
    const ys = [0, 1, -1, 2 ** k - 1, -(2 ** k), 12345, -12345, bound, -bound, bound - 1, -bound + 1];
    // Server shares near 0, p, H, and where s + O crosses H or p.
    const special = [
      0,
      1,
      2,
      P - 1,
      P - 2,
      half - 1,
      half,
      half + 1,
      half - offset,
      half - offset - 1,
      P - offset,
      P - offset - 1,
    ];
    for (const y of ys) {
      const ss = [...special, ...special.map((s) => Fp.sub(Fp.fromSigned(y), s)), ...Fp.random(20, prg)];
      for (const s of ss) {
        const c = Fp.sub(Fp.fromSigned(y), s);
        const want = Math.floor(y / 2 ** k), got = lift(s, c, k);
        assert.ok(
          got === want || got === want + 1,
          `k=${k} y=${y} s=${s}: lifted ${got}, floor(y/2^k) = ${want}`,
        );
        const old = oldLift(s, c, k);
        if (old !== want && old !== want + 1) oldFailures++;
        cases++;
      }
    }
  }
  // The cases include many where the old lift breaks (the test has power).
  assert.ok(oldFailures > cases / 10, `${oldFailures} of ${cases} cases break the old lift`);
});

Deno.test("ring: OT pads as residues are their 128-bit blocks modulo each prime", () => {
  const m = 50, pads = prg.int32s(4 * RING.length * m);
  pads.fill(-1, 0, 4); // block 0 of element 0: 2^128 - 1
  const r = residuesOfBlocks(pads, m);
  for (const [c, F] of RING.entries()) {
    for (let j = 0; j < m; j++) {
      let x = 0n;
      for (let w = 3; w >= 0; w--) x = (x << 32n) | BigInt(pads[4 * (c * m + j) + w] >>> 0);
      assert.equal(r[c][j], Number(x % BigInt(F.p)), `prime ${c} element ${j}`);
    }
  }
  assert.throws(() => residuesOfBlocks(pads, m + 1), /not 3 blocks for 51 elements/);
});

Deno.test("ring: residues and bytes round-trip", () => {
  const r = residuesOf([0, -1, 5, -(2 ** 52)]);
  assert.deepEqual(residuesFromBytes(residuesToBytes(r), 4, "t"), r);
  assert.deepEqual(residueOfBig(-1n), [P - 1, Q - 1, Q2 - 1]);
  assert.throws(() => residuesFromBytes(new Uint8Array(5), 1, "msg"), /msg/);
});
