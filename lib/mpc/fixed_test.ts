import assert from "node:assert/strict";
import { Fp, P } from "./field.ts";
import {
  decodeFixed,
  DEFAULT_FRAC_BITS,
  encodeFixed,
  truncate,
  truncateShare,
  truncationFailureProbability,
} from "./fixed.ts";
import { Prg } from "./prg.ts";
import { reconstruct, share } from "./sharing.ts";

const seed = (b: number) => new Uint8Array(16).fill(b);

Deno.test("fixed: encode/decode round-trips within half an ulp", () => {
  const xs = [0, 1, -1, 0.5, -0.25, 3.14159, -2.71828, 1000.123, -1e-4, 9e5];
  for (const f of [0, 8, 15, 20]) {
    const back = decodeFixed(encodeFixed(xs, f), f);
    xs.forEach((x, i) => assert.ok(Math.abs(back[i] - x) <= 2 ** -(f + 1), `f=${f} x=${x} got ${back[i]}`));
  }
  assert.equal(DEFAULT_FRAC_BITS, 9);
  assert.deepEqual(Array.from(encodeFixed([-0.0001])), [0]);
});

Deno.test("fixed: encode rejects values that do not fit and non-finite values", () => {
  assert.throws(() => encodeFixed([2 ** 33], 8), /does not fit/);
  assert.throws(() => encodeFixed([NaN]), /value \[0\] = NaN/);
  assert.throws(() => encodeFixed([1], 40), /bit count/);
});

Deno.test("fixed: plaintext truncate is the arithmetic shift of the signed value", () => {
  const v = Fp.fromSignedVec([0, 255, 256, 257, -1, -256, -257, 1000000]);
  assert.deepEqual(Array.from(Fp.toSignedVec(truncate(v, 8))), [0, 0, 1, 1, -1, -1, -2, 3906]);
});

Deno.test("fixed: product of encodings truncated by f decodes to the real product", () => {
  const prg = new Prg(seed(1));
  const f = 8;
  const a = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 10);
  const b = Array.from({ length: 200 }, (_, i) => Math.cos(3 * i) * 4);
  const prod = Fp.mulVec(encodeFixed(a, f), encodeFixed(b, f));
  const { server, client } = share(prod, prg);
  const t = reconstruct(truncateShare(server, f, "server"), truncateShare(client, f, "client"));
  const got = decodeFixed(t, f);
  for (let i = 0; i < a.length; i++) {
    // Input rounding (|a|, |b| <= 10 at 2^-9 each) plus one ulp of truncation.
    assert.ok(
      Math.abs(got[i] - a[i] * b[i]) <= (Math.abs(a[i]) + Math.abs(b[i])) * 2 ** -9 + 2 ** -8 + 2 ** -18,
    );
  }
});

Deno.test("fixed: share truncation is floor(X/2^k) + {0,1}, unbiased, for small X", () => {
  const prg = new Prg(seed(2));
  const k = 12, n = 20000;
  const xs = new Float64Array(n);
  const words = prg.int32s(n);
  for (let i = 0; i < n; i++) xs[i] = Fp.fromSigned(words[i] >> 8); // |X| < 2^23
  const { server, client } = share(xs, prg);
  const t = reconstruct(truncateShare(server, k, "server"), truncateShare(client, k, "client"));
  const exact = truncate(xs, k);
  let ones = 0, meanErr = 0;
  for (let i = 0; i < n; i++) {
    const d = Fp.sub(t[i], exact[i]);
    assert.ok(d === 0 || d === 1, `element ${i}: off by ${Fp.toSigned(d)}`);
    ones += d;
    meanErr += Fp.toSigned(t[i]) - Fp.toSigned(xs[i]) / 2 ** k;
  }
  // Failure probability here is < 2^23 / p = 2^-18: none expected in 20000 draws (~8%).
  assert.ok(ones > 0.3 * n && ones < 0.7 * n);
  assert.ok(Math.abs(meanErr / n) < 0.02, `mean error ${meanErr / n} ulp`);
});

Deno.test("fixed: share truncation fails at rate ~|X|/p with an error near p/2^k", () => {
  const prg = new Prg(seed(3));
  const k = 8, n = 20000, X = Math.floor(P / 32); // failure probability 1/32
  const xs = new Float64Array(n).fill(X);
  const { server, client } = share(xs, prg);
  const t = reconstruct(truncateShare(server, k, "server"), truncateShare(client, k, "client"));
  const want = Math.floor(X / 2 ** k);
  let failures = 0;
  for (const v of t) {
    const err = Math.abs(Fp.toSigned(Fp.sub(v, want)));
    if (err > 1) {
      failures++;
      assert.ok(Math.abs(err - P / 2 ** k) < 2, `large error ${err} should be about p/2^k`);
    }
  }
  const rate = failures / n, bound = truncationFailureProbability(X);
  assert.ok(Math.abs(rate - bound) < 0.25 * bound, `failure rate ${rate} vs |X|/p = ${bound}`);
});
