import assert from "node:assert/strict";
import { assertClose } from "./testdata/assert_close.ts";
import {
  approximatedChannels,
  defaultCoefficients,
  fitRelu,
  fitReluPerChannel,
  l1Importance,
  selectApproximated,
} from "./approximation.ts";

Deno.test("l1Importance sums |w| per output channel of a 1x1 conv kernel [1,1,2,4]", () => {
  // Kernel [kh=1, kw=1, cin=2, cout=4] row-major: input channel 0 row, then input channel 1 row.
  const kernel = [1, 0.5, -3, 2, /* cin 1 */ -2, -0.5, 0, 0];
  assert.deepEqual(Array.from(l1Importance(kernel, 4)), [3, 1, 3, 2]);
  assert.throws(() => l1Importance(kernel, 3), /cannot have 3 output channels/);
});

Deno.test("selectApproximated takes the floor(alpha C) least important channels, ties to lower index", () => {
  const importance = [3, 1, 3, 2]; // ascending: c1, c3, then c0 and c2 tie -> c0 first
  assert.deepEqual(Array.from(selectApproximated(importance, 0)), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(selectApproximated(importance, 0.25)), [0, 1, 0, 0]);
  assert.deepEqual(Array.from(selectApproximated(importance, 0.6)), [0, 1, 0, 1]); // floor(2.4) = 2
  assert.deepEqual(Array.from(selectApproximated(importance, 0.75)), [1, 1, 0, 1]); // tie: c0 before c2
  assert.deepEqual(Array.from(selectApproximated(importance, 1)), [1, 1, 1, 1]);
  assert.throws(() => selectApproximated(importance, 1.5), /alpha must be in \[0, 1\]/);
});

Deno.test("approximatedChannels floors alpha x C without binary rounding surprises", () => {
  assert.equal(approximatedChannels(0.29, 100), 29); // 0.29 * 100 = 28.999999999999996
  assert.equal(approximatedChannels(0.5, 63), 31);
  assert.equal(approximatedChannels(1, 64), 64);
  assert.equal(approximatedChannels(0.999, 64), 63);
});

Deno.test("fitRelu on [-1, 1] matches the Legendre least-squares fit of ReLU", () => {
  // Continuous LSQ on [-1, 1]: |x| ~ 1/2 P0 + 5/8 P2 = 3/16 + 15/16 x^2, ReLU = (x + |x|) / 2.
  const n = 20001;
  const grid = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  assertClose(fitRelu(grid, 0), [1 / 4], 1e-4, "degree 0");
  assertClose(fitRelu(grid, 1), [1 / 4, 1 / 2], 1e-4, "degree 1");
  assertClose(fitRelu(grid, 2), [3 / 32, 1 / 2, 15 / 32], 1e-3, "degree 2");
  assertClose(fitRelu(grid, 3), [3 / 32, 1 / 2, 15 / 32, 0], 1e-3, "degree 3"); // |x| even: no cubic term
});

Deno.test("fitReluPerChannel fits each channel on its own inputs", () => {
  // Channel 0: positive inputs (ReLU is the identity there); channel 1: constant -2 (ReLU = 0);
  // channel 2: a shifted, scaled grid, checked against fitRelu on the same values.
  const n = 101;
  const data: number[] = [];
  const third: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = i / (n - 1);
    data.push(0.5 + 3 * u, -2, 40 * u - 10);
    third.push(40 * u - 10);
  }
  const [c0, c1, c2] = fitReluPerChannel(data, 3, 2);
  assertClose(c0, [0, 1, 0], 1e-6, "identity");
  assertClose(c1, [0, 0, 0], 1e-6, "constant");
  assertClose(c2, fitRelu(third, 2), 1e-9, "third");
  // Least squares: the residual is orthogonal to 1, x, x^2.
  for (let k = 0; k < 3; k++) {
    const dot = third.reduce(
      (s, x) => s + (Math.max(x, 0) - (c2[0] + c2[1] * x + c2[2] * x * x)) * x ** k,
      0,
    );
    assert.ok(Math.abs(dot) < 1e-6 * 10 ** (2 * k), `residual . x^${k} = ${dot}`);
  }
});

Deno.test("defaultCoefficients is the Gaussian least-squares fit (Delphi's quadratic)", () => {
  // (Exact up to the solver's 1e-9 ridge.) For z ~ N(0,1): |z| ~ E|z| + (E|z|^3 - E|z|) (z^2 - 1) / 2 (Hermite), E|z| = sqrt(2/pi), E|z|^3 = 2 sqrt(2/pi).
  const s = Math.sqrt(2 / Math.PI);
  assertClose(defaultCoefficients(2), [s / 4, 0.5, s / 4], 1e-8, "degree 2");
  assertClose(defaultCoefficients(0), [s / 2], 1e-8, "degree 0");
  assertClose(defaultCoefficients(3), [s / 4, 0.5, s / 4, 0], 1e-8, "degree 3");
  assertClose(defaultCoefficients(1), [s / 2, 0.5], 1e-8, "degree 1");
});
