/**
 * Result files: `results/<name>_<profile>.json` holding `{ meta, data }`, the machine-readable
 * output of an experiment that notebooks, figures and the README's tables are built from. One
 * file per profile, so a smoke run never overwrites the quick or long results.
 *
 * @module
 */
import { type ResultMeta, resultMeta, type RunInfo } from "./meta.ts";
import { writeFileAtomic } from "../data/atomic.ts";
import { checkName, RESULTS_DIR } from "./paths.ts";

/** The content of a result file. */
export interface ResultFile<T> {
  readonly meta: ResultMeta;
  readonly data: T;
}

/** Where to write or read; defaults to the repository's results/. */
export interface ResultOptions {
  readonly dir?: string;
}

/** The file stem of experiment `name`'s output at `profile` (results and figures alike). */
export function profileStem(name: string, profile: string): string {
  return checkName(`${name}_${profile}`);
}

/**
 * Writes `data` to `<dir>/<name>_<profile>.json` with a meta block (profile, seed, dataset, git
 * commit, machine, timestamp); returns the path written.
 */
export async function writeResult<T>(
  name: string,
  data: T,
  run: RunInfo,
  options: ResultOptions = {},
): Promise<string> {
  const path = `${options.dir ?? RESULTS_DIR}/${profileStem(name, run.profile)}.json`;
  const file: ResultFile<T> = { meta: await resultMeta(run), data };
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + "\n");
  return path;
}

/** Reads `<dir>/<name>_<profile>.json` as written by {@link writeResult}. */
export async function readResult<T>(
  name: string,
  profile: string,
  options: ResultOptions = {},
): Promise<ResultFile<T>> {
  const path = `${options.dir ?? RESULTS_DIR}/${profileStem(name, profile)}.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `no result '${name}' for profile ${profile} at ${path}: run \`deno task reproduce --profile ${profile}\``,
      );
    }
    throw e;
  }
  const file = JSON.parse(text);
  if (typeof file !== "object" || file === null || !("meta" in file) || !("data" in file)) {
    throw new Error(`${path} is not a result file: expected an object with 'meta' and 'data'`);
  }
  return file as ResultFile<T>;
}

/** Provenance of benchmark files: they are not profile-driven experiments. */
export const BENCHMARK_RUN: RunInfo = { profile: "benchmark", seed: 0, dataset: null };

/**
 * Writes a benchmark's measurements to `path` (e.g. results/bench_train.json) with the
 * measurements at the top level, the layout the benchmark issues prescribe
 * (`{"cnn7": {...}, "machine": ..., "commit": ...}`), plus the full provenance block under `meta`.
 */
export async function writeBenchmark(
  path: string,
  measurements: Record<string, unknown>,
  run: RunInfo = BENCHMARK_RUN,
): Promise<string> {
  const meta = await resultMeta(run);
  const file = { ...measurements, machine: meta.machine, commit: meta.commit, meta };
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + "\n");
  return path;
}

/** The JSON content of `path`, or undefined when there is no such file (a result not made yet). */
export async function readJsonIfPresent(path: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
