import assert from "node:assert/strict";
import { Fp, P, PrimeField } from "./field.ts";
import { Prg } from "./prg.ts";
import { reconstruct, share } from "./sharing.ts";

Deno.test("sharing: shares reconstruct to the secret", () => {
  const prg = new Prg(new Uint8Array(16).fill(7));
  const x = Fp.fromSignedVec([0, 1, -1, 123456, -(P - 1) / 2, (P - 1) / 2]);
  const { server, client } = share(x, prg);
  assert.deepEqual(reconstruct(server, client), x);
  const F = new PrimeField(263882790666241);
  const y = F.random(100, prg);
  const s = share(y, prg, F);
  assert.deepEqual(reconstruct(s.server, s.client, F), y);
});

Deno.test("sharing: each share alone is uniform whatever the secret (low-bit histogram)", () => {
  const prg = new Prg(new Uint8Array(16).fill(8));
  const n = 40000;
  const x = new Float64Array(n).fill(5); // a constant secret
  const { server, client } = share(x, prg);
  for (const s of [server, client]) {
    const counts = new Array(16).fill(0);
    for (const v of s) counts[v % 16]++;
    const expected = n / 16;
    const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 40, `chi-squared ${chi2.toFixed(1)} with 15 degrees of freedom`); // p < 0.001
  }
});

Deno.test("sharing: rejects mismatched or invalid shares", () => {
  assert.throws(() => reconstruct(new Float64Array(2), new Float64Array(3)), /lengths differ/);
  assert.throws(() => reconstruct(new Float64Array([P]), new Float64Array(1)), /server share\[0\]/);
  assert.throws(() => share(new Float64Array([-1]), new Prg()), /x\[0\]/);
});
