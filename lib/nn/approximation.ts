/**
 * SAFENet's approximation, the parts that need no TensorFlow.js: degrees, which channels a
 * ratio alpha approximates (eq. 3, by the producer's L1 norms), and least-squares fits of ReLU
 * by polynomials. Plans, counting, the protocol's client and the cost model use these without
 * loading tfjs; the tfjs layer (masked_activation.ts) uses them too.
 *
 * @module
 */

/**
 * Polynomial degree of the approximated channels: 0 prunes (a trainable constant), 2 and 3 are
 * the paper's polynomials, 1 (an affine map, SNL's linearisation when it is the identity) is an
 * extension. All are free of garbled circuits in the protocol.
 */
export type Degree = 0 | 1 | 2 | 3;

/** The degrees a plan may use. */
export const DEGREES: readonly Degree[] = [0, 1, 2, 3];

/** Highest degree; the coefficient weight always has MAX_DEGREE + 1 rows so plans can change in place. */
export const MAX_DEGREE = 3;

/** Tolerance in floor(alpha x C): 0.29 x 100 is 28.999999999999996 in binary and must count 29. */
const FLOOR_TOLERANCE = 1e-9;

/** Number of approximated channels at a site: floor(alpha x channels). */
export function approximatedChannels(alpha: number, channels: number): number {
  return Math.floor(alpha * channels + FLOOR_TOLERANCE);
}

/**
 * Per-output-channel L1 norms of a producer's kernel, whose last axis is the output channel
 * (conv [kh, kw, cin, cout], dense [in, units]). Summed in float64 so ranking ties do not depend
 * on the backend's summation order.
 */
export function l1Importance(kernel: ArrayLike<number>, outputs: number): Float64Array {
  if (kernel.length % outputs !== 0) {
    throw new Error(
      `kernel of ${kernel.length} values cannot have ${outputs} output channels as its last axis`,
    );
  }
  const importance = new Float64Array(outputs);
  for (let i = 0; i < kernel.length; i++) importance[i % outputs] += Math.abs(kernel[i]);
  return importance;
}

/**
 * The approximation mask of eq. 3: 1 for the floor(alpha x C) least important channels, 0 for
 * the channels that keep ReLU. Ties go to the lower channel index (approximated first).
 */
export function selectApproximated(importance: ArrayLike<number>, alpha: number): Float32Array {
  checkAlpha(alpha);
  const channels = importance.length;
  const order = Array.from({ length: channels }, (_, c) => c);
  order.sort((a, b) => importance[a] - importance[b] || a - b);
  const mask = new Float32Array(channels);
  for (const c of order.slice(0, approximatedChannels(alpha, channels))) mask[c] = 1;
  return mask;
}

export function checkAlpha(alpha: number): void {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`alpha must be in [0, 1], got ${alpha}`);
}

export function checkDegree(degree: number): asserts degree is Degree {
  if (!DEGREES.includes(degree as Degree)) {
    throw new Error(`degree (beta) must be one of ${DEGREES.join(", ")}, got ${degree}`);
  }
}

/**
 * Least-squares polynomial coefficients (ascending powers) from moments of standardised inputs
 * z = (x - mean) / std: `zMoments[k]` = E[z^k] for k <= 2 x degree and `reluMoments[k]` =
 * E[relu(x) z^k] for k <= degree. Solving in z keeps the normal equations well conditioned; the
 * result is expanded back into powers of x.
 */
function solveReluFit(
  zMoments: ArrayLike<number>,
  reluMoments: ArrayLike<number>,
  mean: number,
  std: number,
  degree: Degree,
): number[] {
  const n = degree + 1;
  // A small ridge makes a constant channel (all z = 0) fit a constant instead of failing.
  const a = Array.from({ length: n }, (_, i) => [
    ...Array.from({ length: n }, (_, j) => zMoments[i + j] + (i === j && i > 0 ? 1e-9 : 0)),
    reluMoments[i],
  ]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r][col] / a[col][col];
      for (let j = col; j <= n; j++) a[r][j] -= f * a[col][j];
    }
  }
  const q = a.map((row, i) => row[n] / row[i]);
  // p(x) = sum_k q_k ((x - mean) / std)^k, expanded binomially.
  const p = new Array<number>(n).fill(0);
  for (let k = 0; k < n; k++) {
    let binom = 1;
    for (let j = 0; j <= k; j++) {
      p[j] += q[k] * binom * (-mean) ** (k - j) / std ** k;
      binom = binom * (k - j) / (j + 1);
    }
  }
  return p;
}

/**
 * Least-squares fits of ReLU by a degree-`degree` polynomial, one per channel, on observed inputs
 * laid out channel-last (`data[i]` belongs to channel `i % channels`). Returns ascending
 * coefficients per channel. A degree-0 fit is the mean ReLU output.
 */
export function fitReluPerChannel(data: ArrayLike<number>, channels: number, degree: Degree): number[][] {
  checkDegree(degree);
  const count = data.length / channels;
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`cannot fit ${channels} channels on ${data.length} values: need a positive multiple`);
  }
  const mean = new Float64Array(channels);
  const sq = new Float64Array(channels);
  for (let i = 0; i < data.length; i++) mean[i % channels] += data[i] / count;
  for (let i = 0; i < data.length; i++) sq[i % channels] += (data[i] - mean[i % channels]) ** 2 / count;
  const std = Array.from(sq, (v) => Math.sqrt(v) || 1);
  const zm = Array.from({ length: channels }, () => new Float64Array(2 * degree + 1));
  const rm = Array.from({ length: channels }, () => new Float64Array(degree + 1));
  for (let i = 0; i < data.length; i++) {
    const c = i % channels;
    const x = data[i];
    const z = (x - mean[c]) / std[c];
    const r = Math.max(x, 0);
    let zk = 1;
    for (let k = 0; k <= 2 * degree; k++) {
      zm[c][k] += zk;
      if (k <= degree) rm[c][k] += r * zk;
      zk *= z;
    }
  }
  return zm.map((m, c) =>
    solveReluFit(m.map((v) => v / count), rm[c].map((v) => v / count), mean[c], std[c], degree)
  );
}

/** Least-squares fit of ReLU on the given sample points; ascending coefficients. */
export function fitRelu(samples: ArrayLike<number>, degree: Degree): number[] {
  return fitReluPerChannel(samples, 1, degree)[0];
}

/**
 * Coefficients used before any calibration: the least-squares fit of ReLU for a standard normal
 * input (what a batch-normalised pre-activation roughly is), from its exact moments. Degree 2
 * gives 0.1995 + 0.5 x + 0.1995 x^2, Delphi's quadratic up to its rounding.
 */
export function defaultCoefficients(degree: Degree): number[] {
  checkDegree(degree);
  // E[z^k] for z ~ N(0, 1): (k-1)!! for even k, 0 for odd k.
  const zMoments = Array.from({ length: 2 * degree + 1 }, (_, k) => {
    let m = k % 2 ? 0 : 1;
    for (let j = k - 1; j > 0; j -= 2) m *= j;
    return m;
  });
  // E[relu(z) z^k] = E|z|^(k+1) / 2 = 2^((k+1)/2) Gamma((k+2)/2) / (2 sqrt(pi)).
  const gammaHalf = (
    m: number,
  ): number => (m === 1 ? 1 : m === 0.5 ? Math.sqrt(Math.PI) : (m - 1) * gammaHalf(m - 1));
  const reluMoments = Array.from(
    { length: degree + 1 },
    (_, k) => (2 ** ((k + 1) / 2) * gammaHalf((k + 2) / 2)) / (2 * Math.sqrt(Math.PI)),
  );
  return solveReluFit(zMoments, reluMoments, 0, 1, degree);
}
