/**
 * Summary statistics: of repeated measurements, and the argmax of a score vector.
 *
 * @module
 */

/** The middle value of `xs` (the upper of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Index of the largest entry (the first on ties; 0 when empty), e.g. the predicted class of logits. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** x rounded to `digits` decimal places (for reported figures). */
export function roundTo(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
