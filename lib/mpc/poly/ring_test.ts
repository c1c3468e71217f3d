import assert from "node:assert/strict";
import { Fp, P } from "../field.ts";
import { Prg } from "../prg.ts";
import { share } from "../sharing.ts";
import {
  Fq,
  liftClient,
  liftServer,
  MAX_TRUNCATION_BITS,
  Q,
  residueOfBig,
  residuesFromBytes,
  residuesOf,
  residuesToBytes,
  truncateToField,
} from "./ring.ts";

const prg = new Prg(new Uint8Array(16).fill(51));
const PQ = BigInt(P) * BigInt(Q);

Deno.test("ring: q is a 41-bit prime with 2^14 | q - 1, distinct from p", () => {
  assert.equal((Q - 1) % 16384, 0);
  assert.notEqual(Q, P);
  for (const a of [2, 3, 5, 7]) assert.equal(Fq.pow(a, Q - 1), 1);
  assert.equal(MAX_TRUNCATION_BITS, 40);
});

Deno.test("ring: truncateToField = floor((z - pq) / 2^k) mod p for z from residues", () => {
  const zs = Fp.random(400, prg), zq = Fq.random(400, prg);
  zs[0] = 0, zq[0] = 0;
  zs[1] = P - 1, zq[1] = Q - 1;
  for (const k of [0, 1, 8, 36, 37, 38, 40]) {
    for (let i = 0; i < zs.length; i++) {
      // Reference CRT in BigInt: the z in [0, pq) with both residues.
      const pinv = BigInt(Fq.inv(P % Q));
      const t = ((BigInt(zq[i]) - BigInt(zs[i])) % BigInt(Q) + BigInt(Q)) * pinv % BigInt(Q);
      const z = BigInt(zs[i]) + BigInt(P) * t;
      assert.equal(Number(z % BigInt(Q)), zq[i]);
      const num = z - PQ;
      const d = 1n << BigInt(k);
      const fl = num >= 0n ? num / d : -((-num + d - 1n) / d);
      const want = Number(((fl % BigInt(P)) + BigInt(P)) % BigInt(P));
      assert.equal(truncateToField(zs[i], zq[i], k), want, `k=${k} i=${i}`);
    }
  }
});

Deno.test("ring: lifted shares of a small Y add to floor(Y / 2^k) or one more, as integers", () => {
  const ys = Array.from(prg.int32s(2000), (v) => v >> 6); // |Y| < 2^25
  const { server, client } = share(Fp.fromSignedVec(ys), prg);
  for (const k of [0, 6]) {
    for (let i = 0; i < ys.length; i++) {
      const want = Math.floor(ys[i] / 2 ** k);
      const got = liftServer(server[i], k) + liftClient(client[i], k);
      assert.ok(got === want || (k > 0 && got === want + 1), `Y=${ys[i]} k=${k}: ${got} vs ${want}`);
    }
  }
});

Deno.test("ring: residues and bytes round-trip", () => {
  const r = residuesOf([0, -1, 5, -(2 ** 52)]);
  assert.deepEqual(residuesFromBytes(residuesToBytes(r), 4, "t"), r);
  assert.deepEqual(residueOfBig(-1n), [P - 1, Q - 1]);
  assert.throws(() => residuesFromBytes(new Uint8Array(5), 1, "msg"), /msg/);
});
