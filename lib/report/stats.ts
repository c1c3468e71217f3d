/**
 * Summary statistics of repeated measurements.
 *
 * @module
 */

/** The middle value of `xs` (the upper of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}
