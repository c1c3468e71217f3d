/**
 * Checks of searcher options, so a bad option is a one-line error before any trial starts.
 *
 * @module
 */
import { type Degree, DEGREES } from "../nn/approximation.ts";
import { SEARCH_DEGREES } from "./space.ts";
import type { SearcherName } from "./types.ts";

/** Throws unless `value` is an integer >= `min` (default 1). */
export function checkInteger(where: string, name: string, value: number, min = 1): number {
  if (!(Number.isSafeInteger(value) && value >= min)) {
    throw new Error(`${where}: ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Throws unless `low <= value <= high`. */
export function checkRange(where: string, name: string, value: number, low: number, high: number): number {
  if (!(typeof value === "number" && value >= low && value <= high)) {
    throw new Error(`${where}: ${name} must be a number in [${low}, ${high}], got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Throws unless `degrees` is a non-empty list of distinct plan degrees. */
export function checkDegrees(where: string, degrees: readonly Degree[]): readonly Degree[] {
  if (
    !Array.isArray(degrees) || degrees.length === 0 || new Set(degrees).size !== degrees.length ||
    degrees.some((d) => !DEGREES.includes(d))
  ) {
    throw new Error(
      `${where}: degrees must be distinct values of ${DEGREES.join(", ")}, got ${JSON.stringify(degrees)}`,
    );
  }
  return degrees;
}

/**
 * Cycles of `population` trials x `interval` images that fit in `images`; throws if not even one
 * fits, naming the numbers to change.
 */
export function cyclesWithin(where: string, images: number, population: number, interval: number): number {
  const cycles = Math.floor(images / (population * interval));
  if (cycles < 1) {
    throw new Error(
      `${where}: ${images} training images do not fit one cycle of ${population} trials x ${interval} images; ` +
        `raise the budget or lower population or interval`,
    );
  }
  return cycles;
}

/**
 * A searcher restricted to some degrees, as the paper's ablation (Figure 5) needs it: BTPBT with
 * beta in {2} is CW-MP, with {0, 2, 3} CW-MP-MD. Its label names the run, the result file and the
 * plan file: the searcher's name, plus `-d` and the degrees when they are not the default (e.g.
 * `btpbt-d2`). The uniform searcher takes exactly one degree (default 2); Delphi's planner only 2.
 */
export function searchVariant(searcher: SearcherName, degrees?: readonly Degree[]): string {
  if (degrees === undefined) return searcher;
  const fixed = searcher === "uniform" || searcher === "delphi";
  if (fixed && degrees.length !== 1) {
    throw new Error(`--degrees: the ${searcher} searcher takes a single degree, got ${degrees.join(",")}`);
  }
  if (searcher === "delphi" && degrees[0] !== 2) {
    throw new Error(`--degrees: Delphi's planner replaces whole layers by degree-2 polynomials only`);
  }
  checkDegrees(`--degrees (${searcher})`, degrees);
  const isDefault = fixed ? degrees[0] === 2 : sameDegrees(degrees, SEARCH_DEGREES);
  return isDefault ? searcher : `${searcher}-d${[...degrees].sort().join("")}`;
}

function sameDegrees(a: readonly Degree[], b: readonly Degree[]): boolean {
  return a.length === b.length && a.every((d) => b.includes(d));
}

/** A search's default run name, its directory under the runs directory (e.g. `btpbt-d2-cnn7-quick-s1`). */
export function searchRunName(
  searcher: SearcherName,
  model: string,
  profile: string,
  seed: number,
  degrees?: readonly Degree[],
): string {
  return `${searchVariant(searcher, degrees)}-${model}-${profile}-s${seed}`;
}

/** The result-file stem of a search (the profile is added by writeResult): search_<variant>_<model>; see {@link searchVariant}. */
export function searchResultName(
  searcher: SearcherName,
  model: string,
  degrees?: readonly Degree[],
): string {
  return `search_${searchVariant(searcher, degrees)}_${model}`;
}
