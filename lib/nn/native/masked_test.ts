import assert from "node:assert/strict";
import { passesWithoutNative } from "./_test_util.ts";
import { maskedNative } from "./masked.ts";

/** The formulas of masked_activation.c in plain double arithmetic. */
function reference(x: Float32Array, dy: Float32Array, t: Float64Array[], channels: number) {
  const [a0, a1, a2, a3, keep] = t;
  const y = new Float64Array(x.length), dx = new Float64Array(x.length);
  const sums = new Float64Array(4 * channels);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels, v = x[i], g = dy[i];
    y[i] = keep[c] * Math.max(v, 0) + a0[c] + a1[c] * v + a2[c] * v * v + a3[c] * v * v * v;
    dx[i] = g * (keep[c] * (v > 0 ? 1 : 0) + a1[c] + 2 * a2[c] * v + 3 * a3[c] * v * v);
    for (let k = 0; k < 4; k++) sums[k * channels + c] += g * v ** k;
  }
  return { y, dx, sums };
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, what: string) {
  assert.equal(got.length, want.length, `${what} length`);
  for (let i = 0; i < want.length; i++) {
    const bound = tolerance * Math.max(1, Math.abs(want[i]));
    assert.ok(Math.abs(got[i] - want[i]) <= bound, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

Deno.test("native masked activation: forward, input gradient and coefficient sums match the formulas", () => {
  const native = maskedNative();
  assert.ok(native, "the C kernels must build here (tools/setup.sh installs gcc)");
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
  // Positions not a multiple of the 32-position block; channels as CNN-7's and VGG-16's widest.
  for (const [positions, channels] of [[1, 3], [77, 64], [45, 512]]) {
    const x = Float32Array.from({ length: positions * channels }, () => 6 * rand());
    const dy = Float32Array.from({ length: positions * channels }, rand);
    const t = Array.from({ length: 5 }, (_, k) =>
      Float64Array.from({ length: channels }, (_, c) =>
        // Every second channel ReLU (keep 1, no polynomial), the others polynomial.
        k === 4 ? c % 2 : c % 2 ? 0 : rand()));
    const want = reference(x, dy, t, channels);
    const y = new Float32Array(x.length), dx = new Float32Array(x.length);
    const sums = new Float64Array(4 * channels).fill(1);
    const f32 = (...rows: Float64Array[]) => Float32Array.from(rows.flatMap((r) => [...r]));
    native.forward(x, y, channels, f32(t[0], t[1], t[2], t[3], t[4].map((k) => k / 2)));
    native.grad(x, dy, dx, sums, channels, f32(t[1], t[2], t[3], t[4]));
    close(y, want.y, 1e-5, `y ${positions}x${channels}`);
    close(dx, want.dx, 1e-5, `dx ${positions}x${channels}`);
    // The sums are added to what the buffer held.
    close(sums.map((s) => s - 1), want.sums, 1e-4, `sums ${positions}x${channels}`);
  }
  assert.throws(
    () =>
      native.grad(
        new Float32Array(5000),
        new Float32Array(5000),
        new Float32Array(5000),
        new Float64Array(20000),
        5000,
        new Float32Array(20000),
      ),
    /5000 channels > 4096/,
  );
});

Deno.test("the JavaScript fallback (SAFENET_NATIVE=0) passes the fused kernel's reference test", async () => {
  await passesWithoutNative(new URL("../masked_activation_test.ts", import.meta.url), "fused kernel", 1);
});
