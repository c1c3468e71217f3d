import assert from "node:assert/strict";
import { Fp, P, PrimeField } from "./field.ts";
import { Prg } from "./prg.ts";

const seed = (b: number) => new Uint8Array(16).fill(b);

/** Edge values and random values of a field, for checks against BigInt. */
function samples(F: PrimeField, n: number, prg: Prg): number[] {
  const p = F.p;
  const edges = [
    0,
    1,
    2,
    3,
    p - 1,
    p - 2,
    F.half,
    F.half + 1,
    2 ** 20,
    2 ** 21 - 1,
    2 ** 21,
    2 ** 27,
    2 ** 27 + 1,
  ];
  if (p > 2 ** 40) edges.push(2 ** 40 - 1, 2 ** 40, 2 ** 40 + 1);
  return [...edges.filter((x) => x < p), ...F.random(n, prg)];
}

for (
  const F of [Fp, new PrimeField(263882790666241), new PrimeField(2168958484481), new PrimeField(65537)]
) {
  Deno.test(`field p=${F.p}: mul/add/sub agree with BigInt`, () => {
    const prg = new Prg(seed(1));
    const xs = samples(F, 3000, prg);
    const ys = samples(F, 3000, prg).reverse();
    const p = BigInt(F.p);
    for (let i = 0; i < xs.length; i++) {
      for (const [a, b] of [[xs[i], ys[i]], [xs[i], xs[i]], [xs[i], xs[(i * 7) % xs.length]]]) {
        const A = BigInt(a), B = BigInt(b);
        assert.equal(F.mul(a, b), Number(A * B % p), `mul ${a} ${b}`);
        assert.equal(F.add(a, b), Number((A + B) % p));
        assert.equal(F.sub(a, b), Number(((A - B) % p + p) % p));
      }
    }
  });

  Deno.test(`field p=${F.p}: mulAdd and hornerVec agree with BigInt`, () => {
    const prg = new Prg(seed(2));
    const p = BigInt(F.p);
    const edges = samples(F, 0, prg);
    // Every triple of edge values (0, 1, p - 1, 2^40 +- 1, ...), where corrections are likeliest.
    for (const a of edges) {
      for (const b of edges) {
        for (const c of edges) {
          assert.equal(F.mulAdd(a, b, c), Number((BigInt(a) * BigInt(b) + BigInt(c)) % p), `${a} ${b} ${c}`);
        }
      }
    }
    const n = 4000;
    const [a, b, c, d] = [0, 1, 2, 3].map(() => Float64Array.from(samples(F, n, prg).slice(0, n)));
    b.reverse();
    const fused = a.map((ai, i) => F.mulAdd(ai, b[i], c[i]));
    for (let i = 0; i < n; i++) {
      assert.equal(fused[i], Number((BigInt(a[i]) * BigInt(b[i]) + BigInt(c[i])) % p), `mulAdd[${i}]`);
    }
    // Degree 3 in x = b, coefficients a (constant) .. d (cubic); out aliases x.
    const x = b.slice();
    F.hornerVec([a, c, d, fused], x, x);
    for (let i = 0; i < n; i++) {
      const X = BigInt(b[i]);
      const want = (BigInt(a[i]) + X * (BigInt(c[i]) + X * (BigInt(d[i]) + X * BigInt(fused[i])))) % p;
      assert.equal(x[i], Number(want), `hornerVec[${i}]`);
    }
    // At the point b + c (the shift wraps past p often), into a fresh vector.
    const shifted = F.hornerVec([a, d], b, undefined, c);
    for (let i = 0; i < n; i++) {
      const want = (BigInt(a[i]) + (BigInt(b[i]) + BigInt(c[i])) * BigInt(d[i])) % p;
      assert.equal(shifted[i], Number(want), `hornerVec shifted[${i}]`);
    }
    assert.deepEqual(F.hornerVec([a], b), a);
    assert.throws(() => F.hornerVec([], b), /at least one coefficient/);
    assert.throws(() => F.hornerVec([a, c.subarray(1)], b), /lengths differ/);
  });
}

Deno.test("field: reduce handles every safe integer, including negative ones", () => {
  const prg = new Prg(seed(2));
  const p = BigInt(P);
  const words = prg.int32s(4000);
  const values = [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), P, -P, 2 * P, P * 4095, -P * 4095 - 1];
  for (let i = 0; i < words.length; i += 2) {
    values.push(((words[i] & 0x1fffff) * 2 ** 32 + (words[i + 1] >>> 0)) * (i % 4 ? 1 : -1));
  }
  for (const x of values) {
    const want = Number(((BigInt(x) % p) + p) % p);
    assert.equal(Fp.reduce(x), want, `reduce ${x}`);
  }
});

Deno.test("field: p is Delphi's 41-bit prime with 2^14 | p - 1 (BFV batching at N = 8192)", () => {
  assert.equal(P, 15 * 2 ** 37 + 1);
  assert.equal(Fp.bits, 41);
  assert.equal((P - 1) % 16384, 0);
  // Fermat witnesses (a full primality test is the caller's claim; this guards typos).
  for (const a of [2, 3, 5, 7, 11]) assert.equal(Fp.pow(a, P - 1), 1);
});

Deno.test("field: pow and inv", () => {
  const prg = new Prg(seed(3));
  for (const a of Fp.random(50, prg)) {
    if (a === 0) continue;
    assert.equal(Fp.mul(a, Fp.inv(a)), 1);
    assert.equal(Fp.pow(a, 3), Fp.mul(a, Fp.mul(a, a)));
  }
  assert.throws(() => Fp.inv(0), /no inverse/);
});

Deno.test("field: signed encoding round-trips and rejects out-of-range values", () => {
  for (const x of [0, 1, -1, Fp.half, -Fp.half, 123456789, -987654321]) {
    const e = Fp.fromSigned(x);
    assert.ok(Number.isInteger(e) && e >= 0 && e < P);
    assert.equal(Fp.toSigned(e), x);
  }
  assert.equal(Fp.toSigned(Fp.half + 1), -Fp.half);
  assert.throws(() => Fp.fromSigned(Fp.half + 1), /not an integer/);
  assert.throws(() => Fp.fromSigned(0.5), /not an integer/);
  const v = Fp.fromSignedVec([-3, 0, 5]);
  assert.deepEqual(Array.from(Fp.toSignedVec(v)), [-3, 0, 5]);
});

Deno.test("field: vector ops match scalar ops and check lengths", () => {
  const prg = new Prg(seed(4));
  const a = Fp.random(1000, prg), b = Fp.random(1000, prg);
  const s = Fp.addVec(a, b),
    d = Fp.subVec(a, b),
    m = Fp.mulVec(a, b),
    k = Fp.scaleVec(a, b[0]);
  for (let i = 0; i < a.length; i++) {
    assert.equal(s[i], Fp.add(a[i], b[i]));
    assert.equal(d[i], Fp.sub(a[i], b[i]));
    assert.equal(m[i], Fp.mul(a[i], b[i]));
    assert.equal(k[i], Fp.mul(a[i], b[0]));
  }
  assert.throws(() => Fp.addVec(a, b.subarray(1)), /lengths differ/);
});

Deno.test("field: bytes round-trip and reject non-elements", () => {
  const prg = new Prg(seed(6));
  const v = Fp.random(500, prg);
  v[0] = P - 1;
  v[1] = 0;
  const bytes = Fp.toBytes(v);
  assert.equal(bytes.length, 500 * 6);
  assert.deepEqual(Fp.fromBytes(bytes, 500), v);
  assert.throws(() => Fp.fromBytes(bytes, 499), /field elements/);
  const bad = Fp.toBytes(new Float64Array([P - 1]));
  bad[0] += 1; // p itself
  assert.throws(() => Fp.fromBytes(bad), /not a field element/);
  // 6 bytes from an odd offset (the word path needs alignment), 5 and 3 bytes per element.
  const odd = new Uint8Array(bytes.length + 1);
  odd.set(bytes, 1);
  assert.deepEqual(Fp.fromBytes(odd.subarray(1), 500), v);
  const into = new Uint8Array(bytes.length + 3);
  Fp.toBytes(v, into.subarray(1, bytes.length + 1)); // odd offset: the byte path
  assert.deepEqual(into.subarray(1, bytes.length + 1), bytes);
  Fp.toBytes(v, into.subarray(2, bytes.length + 2)); // even offset: the word path
  assert.deepEqual(into.subarray(2, bytes.length + 2), bytes);
  assert.throws(() => Fp.toBytes(v, into), /need 3000 bytes/);
  for (const F of [new PrimeField(23857201153), new PrimeField(65537)]) {
    const w = F.random(100, prg);
    assert.equal(F.toBytes(w).length, 100 * F.bytesPerElement);
    assert.deepEqual(F.fromBytes(F.toBytes(w)), w);
  }
});

Deno.test("field: checkVec names the bad entry; constructor rejects bad moduli", () => {
  assert.throws(() => Fp.checkVec(new Float64Array([1, P]), "r"), /r\[1\] = 2061584302081/);
  assert.throws(() => Fp.checkVec(new Float64Array([0.5])), /not a field element/);
  assert.throws(() => new PrimeField(2 ** 50 + 1), /odd prime/);
  assert.throws(() => new PrimeField(10), /odd prime/);
  // 562949952847873 = 34359738333 * 2^14 + 1: prime, but its odd part is too large.
  assert.throws(() => new PrimeField(562949952847873), /odd part/);
});
