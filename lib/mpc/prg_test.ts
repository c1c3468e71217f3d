import assert from "node:assert/strict";
import {
  type AesBackend,
  aesCtr,
  aesEcb,
  defaultAesBackend,
  FIXED_KEY,
  Prg,
  RekeyedAes,
  TccrHash,
} from "./prg.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const fromHex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
const backends: AesBackend[] = defaultAesBackend() === "openssl-ffi"
  ? ["openssl-ffi", "node-crypto"]
  : ["node-crypto"];

Deno.test("AES-128-ECB matches the FIPS-197 test vector on every backend", () => {
  for (const backend of backends) {
    const block = fromHex("00112233445566778899aabbccddeeff");
    aesEcb(fromHex("000102030405060708090a0b0c0d0e0f"), backend).encryptInPlace(block);
    assert.equal(hex(block), "69c4e0d86a7b0430d8cdb78070b4c55a", backend);
    assert.throws(() => aesEcb(block, backend).encryptInPlace(new Uint8Array(20)), /multiple of 16/);
  }
});

Deno.test("backends agree on ECB (many blocks, re-keyed) and CTR", () => {
  if (backends.length < 2) return; // only node:crypto here
  const key = new Prg(new Uint8Array(16)).bytes(16);
  const data = new Prg(new Uint8Array(16).fill(1)).bytes(16 * 1000);
  const [x, y] = [data.slice(), data.slice()];
  const [ex, ey] = [aesEcb(key, "openssl-ffi"), aesEcb(key, "node-crypto")];
  ex.encryptInPlace(x);
  ey.encryptInPlace(y);
  assert.deepEqual(x, y);
  ex.rekey(data.subarray(0, 16));
  ey.rekey(data.subarray(0, 16));
  ex.encryptInPlace(x);
  ey.encryptInPlace(y);
  assert.deepEqual(x, y);
  const [cx, cy] = [new Uint8Array(1000), new Uint8Array(1000)];
  aesCtr(key, undefined, "openssl-ffi").encryptInPlace(cx);
  aesCtr(key, undefined, "node-crypto").encryptInPlace(cy);
  assert.deepEqual(cx, cy);
});

Deno.test("Prg is deterministic per seed, continues its stream, and differs across seeds", () => {
  const a = new Prg(new Uint8Array(16)), b = new Prg(new Uint8Array(16));
  const whole = new Prg(new Uint8Array(16)).bytes(64);
  assert.deepEqual(a.bytes(64), b.bytes(64));
  const c = new Prg(new Uint8Array(16));
  assert.deepEqual([...c.bytes(10), ...c.bytes(54)], [...whole]); // chunking does not change the stream
  assert.notDeepEqual(new Prg(new Uint8Array(16).fill(2)).bytes(64), whole);
  assert.notDeepEqual(new Prg().bytes(32), new Prg().bytes(32)); // fresh OS seeds
  assert.throws(() => new Prg(new Uint8Array(15)), /16-byte key/);
});

Deno.test("Prg.fieldElements: in range, every residue of a small modulus about equally often", () => {
  const prg = new Prg(new Uint8Array(16).fill(3));
  const p = 2061584302081;
  const big = prg.fieldElements(20000, p);
  let mean = 0;
  for (const v of big) {
    assert.ok(Number.isInteger(v) && v >= 0 && v < p);
    mean += v / big.length;
  }
  assert.ok(Math.abs(mean / p - 0.5) < 0.01, `mean/p = ${mean / p}`);
  assert.ok(big.some((v) => v >= 2 ** 40), "top bit used");
  const counts = new Array(5).fill(0);
  for (const v of prg.fieldElements(50000, 5)) counts[v]++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, `counts ${counts}`);
  assert.throws(() => prg.fieldElements(1, 2 ** 60), /modulus/);
});

Deno.test("Prg.bits are 0/1 and balanced", () => {
  const bits = new Prg(new Uint8Array(16).fill(4)).bits(40000);
  let ones = 0;
  for (const b of bits) {
    assert.ok(b === 0 || b === 1);
    ones += b;
  }
  assert.ok(Math.abs(ones - 20000) < 600);
});

Deno.test("TccrHash is π(π(x) ^ i) ^ π(x); runs share tweaks, tweaks separate", () => {
  const x = new Prg(new Uint8Array(16).fill(5)).int32s(4 * 6); // 2 runs of 3 blocks
  x.set(x.subarray(0, 12), 12); // second run repeats the first
  const h = x.slice();
  new TccrHash().hashInPlace(h, 3, 2, 2 ** 40 + 7);
  const perm = aesEcb(FIXED_KEY);
  for (let b = 0; b < 3; b++) {
    const p1 = x.slice(4 * b, 4 * b + 4);
    perm.encryptInPlace(p1);
    const p2 = p1.slice();
    const t = 2 ** 40 + 7 + b;
    p2[0] ^= t % 2 ** 32;
    p2[1] ^= Math.floor(t / 2 ** 32);
    perm.encryptInPlace(p2);
    for (let w = 0; w < 4; w++) assert.equal(h[4 * b + w], p1[w] ^ p2[w]);
  }
  assert.deepEqual(h.subarray(0, 12), h.subarray(12, 24)); // same input, same tweak
  const other = x.slice(0, 12);
  new TccrHash().hashInPlace(other, 3, 1, 0);
  assert.notDeepEqual(other, h.subarray(0, 12)); // different tweak, different hash
});

Deno.test("RekeyedAes encrypts under S ^ id on every backend", () => {
  const start = fromHex("000102030405060708090a0b0c0d0e0f");
  for (const backend of backends) {
    const r = new RekeyedAes(start, backend);
    const data = new Prg(new Uint8Array(16).fill(6)).int32s(16);
    for (const id of [0, 5, 2 ** 33 + 9]) {
      const got = data.slice();
      r.encryptUnder(id, got);
      const key = new Int32Array(start.slice().buffer);
      key[0] ^= id % 2 ** 32;
      key[1] ^= Math.floor(id / 2 ** 32);
      const want = data.slice();
      aesEcb(new Uint8Array(key.buffer), backend).encryptInPlace(want);
      assert.deepEqual(got, want, `${backend} id ${id}`);
    }
  }
});
