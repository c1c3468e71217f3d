/**
 * Non-negative least squares (Lawson and Hanson's active-set method): unit costs fitted to
 * measured totals can never come out negative. Sizes here are tiny (a handful of unknowns).
 *
 * @module
 */

/** Solves the square system `a x = b` by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    if (Math.abs(m[c][c]) < 1e-300) throw new Error("nnls: the fitted operations are linearly dependent");
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

/** Unconstrained least squares on the columns in `passive` (others zero). */
function leastSquares(a: number[][], b: number[], passive: number[]): number[] {
  const ata = passive.map((i) => passive.map((j) => a.reduce((s, row) => s + row[i] * row[j], 0)));
  const atb = passive.map((i) => a.reduce((s, row, r) => s + row[i] * b[r], 0));
  const z = solve(ata, atb);
  const x = new Array(a[0].length).fill(0);
  passive.forEach((i, k) => x[i] = z[k]);
  return x;
}

/** x >= 0 minimising |a x - b| (rows: observations, columns: unknowns). */
export function nnls(a: number[][], b: number[]): number[] {
  const n = a[0]?.length ?? 0;
  if (a.length === 0 || n === 0 || a.some((row) => row.length !== n) || b.length !== a.length) {
    throw new Error(`nnls: expected a non-empty m x n matrix and m targets`);
  }
  // Scale columns so the tolerance means the same for seconds per byte and per ciphertext.
  const scale = Array.from({ length: n }, (_, j) => Math.max(...a.map((row) => Math.abs(row[j]))) || 1);
  const as = a.map((row) => row.map((v, j) => v / scale[j]));
  let x = new Array(n).fill(0);
  const passive: number[] = [];
  const gradient = () =>
    Array.from(
      { length: n },
      (_, j) => as.reduce((s, row, r) => s + row[j] * (b[r] - row.reduce((t, v, k) => t + v * x[k], 0)), 0),
    );
  const tol = 1e-12 * Math.max(1, ...b.map(Math.abs));
  for (let iter = 0; iter < 10 * n; iter++) {
    const w = gradient();
    const candidates = w.map((v, j) => ({ v, j })).filter(({ j, v }) => !passive.includes(j) && v > tol);
    if (candidates.length === 0) break;
    passive.push(candidates.reduce((best, c) => (c.v > best.v ? c : best)).j);
    while (passive.length) {
      const z = leastSquares(as, b, passive);
      if (passive.every((j) => z[j] > 0)) {
        x = z;
        break;
      }
      let alpha = 1;
      for (const j of passive) if (z[j] <= 0) alpha = Math.min(alpha, x[j] / (x[j] - z[j]));
      x = x.map((v, j) => v + alpha * (z[j] - v));
      for (const j of [...passive]) if (x[j] <= 1e-15) passive.splice(passive.indexOf(j), 1);
    }
  }
  return x.map((v, j) => v / scale[j]);
}
