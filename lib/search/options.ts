/**
 * Checks of searcher options, so a bad option is a one-line error before any trial starts.
 *
 * @module
 */
import { type Degree, DEGREES } from "../nn/approximation.ts";
import { SEARCH_DEGREES } from "./space.ts";
import { COST_SOURCES, type CostSource, DEFAULT_COST_SOURCE, isCostSource } from "./cost_source.ts";
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
 * One search's kind: a searcher, maybe restricted to some degrees (the paper's ablation, Figure
 * 5: BTPBT with beta in {2} is CW-MP, with {0, 2, 3} CW-MP-MD), maybe scored with another R(beta)
 * than the paper's (lib/search/cost_source.ts).
 */
export interface SearchSpec {
  readonly searcher: SearcherName;
  /** The degrees beta may take (default {@link SEARCH_DEGREES}; uniform: one, default 2; Delphi: 2 only). */
  readonly degrees?: readonly Degree[];
  /** Where R(beta) comes from (default {@link DEFAULT_COST_SOURCE}). */
  readonly cost?: CostSource;
}

/**
 * A spec's label, which names its run, result file and plan file: the searcher's name, plus `-d`
 * and the degrees when they are not the default (e.g. `btpbt-d2`), plus the cost source when it
 * is not the paper's (e.g. `btpbt-lab-lan`). Throws on degrees the searcher cannot take.
 */
export function specLabel(spec: SearchSpec): string {
  const { searcher, degrees, cost = DEFAULT_COST_SOURCE } = spec;
  if (!isCostSource(cost)) throw new Error(`--cost must be one of ${COST_SOURCES.join(", ")}, got '${cost}'`);
  const costPart = cost === DEFAULT_COST_SOURCE ? "" : `-${cost}`;
  if (degrees === undefined) return searcher + costPart;
  const fixed = searcher === "uniform" || searcher === "delphi";
  if (fixed && degrees.length !== 1) {
    throw new Error(`--degrees: the ${searcher} searcher takes a single degree, got ${degrees.join(",")}`);
  }
  if (searcher === "delphi" && degrees[0] !== 2) {
    throw new Error(`--degrees: Delphi's planner replaces whole layers by degree-2 polynomials only`);
  }
  checkDegrees(`--degrees (${searcher})`, degrees);
  const isDefault = fixed ? degrees[0] === 2 : sameDegrees(degrees, SEARCH_DEGREES);
  return (isDefault ? searcher : `${searcher}-d${[...degrees].sort().join("")}`) + costPart;
}

function sameDegrees(a: readonly Degree[], b: readonly Degree[]): boolean {
  return a.length === b.length && a.every((d) => b.includes(d));
}

/** A search's default run name, its directory under the runs directory (e.g. `btpbt-d2-cnn7-quick-s1`). */
export function searchRunName(spec: SearchSpec, model: string, profile: string, seed: number): string {
  return `${specLabel(spec)}-${model}-${profile}-s${seed}`;
}

/** The result-file stem of a search (the profile is added by writeResult): search_<label>_<model>; see {@link specLabel}. */
export function searchResultName(spec: SearchSpec, model: string): string {
  return `search_${specLabel(spec)}_${model}`;
}

/** The command that runs a spec's search (and writes its result file) at a profile and seed. */
export function searchCommand(spec: SearchSpec, model: string, profile: string, seed: number): string {
  const degrees = spec.degrees ? ` --degrees ${spec.degrees.join(",")}` : "";
  const cost = spec.cost && spec.cost !== DEFAULT_COST_SOURCE ? ` --cost ${spec.cost}` : "";
  return `deno task search --searcher ${spec.searcher}${degrees}${cost} --model ${model} --profile ${profile} --seed ${seed}`;
}
