/**
 * Where data sets live: the directories searched, in order, and the choice of one.
 *
 * The repository root comes from this module's own location, so lookups do not depend on the
 * working directory a notebook or task was started from.
 *
 * @module
 */

import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DataError, type DatasetName, type DatasetSpec, datasetSpec } from "./dataset.ts";

/** Environment variable naming a data directory searched before the repository's own. */
export const DATA_DIR_ENV = "SAFENET_DATA_DIR";

/**
 * The repository root (two levels above `lib/data/`, no trailing slash). Defined here, in the
 * lowest layer, so that every layer and tool can import this one definition.
 */
export const REPO_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** `path` relative to the repository when it lies inside it (for records that travel with the repository), else absolute. */
export function repoRelative(path: string): string {
  const rel = relative(REPO_ROOT, resolve(path));
  return rel.startsWith("..") || isAbsolute(rel) ? resolve(path) : rel;
}

/** The repository's data directory, where `deno task data` writes by default. */
export const REPO_DATA_DIR: string = join(REPO_ROOT, "data");

/** A directory searched for data sets, and why it is searched. */
export interface SearchDir {
  readonly path: string;
  /** E.g. "$SAFENET_DATA_DIR", "repository data/", "shared data". */
  readonly origin: string;
}

/**
 * The data directories searched, in order: `$SAFENET_DATA_DIR` (when set), `<repo>/data`,
 * `<repo>/../shared/data`. A data set is found in `<directory>/<spec.dir>/`.
 */
export function dataSearchDirs(): SearchDir[] {
  const dirs: SearchDir[] = [];
  const env = Deno.env.get(DATA_DIR_ENV);
  if (env) dirs.push({ path: resolve(env), origin: `$${DATA_DIR_ENV}` });
  dirs.push({ path: REPO_DATA_DIR, origin: "repository data/" });
  dirs.push({ path: resolve(REPO_ROOT, "..", "shared", "data"), origin: "shared data" });
  return dirs;
}

/** A data set's chosen directory and the search that chose it (for messages). */
export interface FoundDataset {
  readonly spec: DatasetSpec;
  /** `<search dir>/<spec.dir>`. */
  readonly dir: string;
  readonly searched: readonly SearchDir[];
}

/** Options of {@link findDataset}. */
export interface FindOptions {
  /** Search these directories instead of {@link dataSearchDirs} (e.g. one `dataDir`). */
  readonly searchDirs?: readonly (string | SearchDir)[];
}

/** The directories a search covers: `dirs` (plain paths are resolved) or {@link dataSearchDirs}. */
export function resolveSearchDirs(dirs?: readonly (string | SearchDir)[]): SearchDir[] {
  return dirs?.map((d) => typeof d === "string" ? { path: resolve(d), origin: "given" } : d) ??
    dataSearchDirs();
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** One line per searched directory, for error messages. */
export function describeSearch(spec: DatasetSpec, searched: readonly SearchDir[]): string {
  return searched.map((d) => `  ${join(d.path, spec.dir)}  (${d.origin})`).join("\n");
}

/** The advice printed with every "not found" error. */
export function fetchAdvice(spec: DatasetSpec): string {
  return `Fetch it with \`deno task data ${spec.name}\`, or copy the official files ` +
    `(${Object.keys(spec.files).join(", ")} in ${spec.dir}/) into one of these directories, ` +
    `or set ${DATA_DIR_ENV} to a directory that contains ${spec.dir}/.`;
}

/**
 * The first searched directory that contains `<spec.dir>/`. The first existing one is used even
 * if incomplete (the verifier then names the missing files), so data never silently mixes
 * directories. Throws a "missing" {@link DataError} listing every directory looked in.
 */
export function findDataset(dataset: DatasetName | DatasetSpec, options: FindOptions = {}): FoundDataset {
  const spec = datasetSpec(dataset);
  const searched = resolveSearchDirs(options.searchDirs);
  for (const d of searched) {
    const dir = join(d.path, spec.dir);
    if (isDirectory(dir)) return { spec, dir, searched };
  }
  throw new DataError(
    "missing",
    `${spec.title} not found: no directory ${spec.dir}/ in any of\n${describeSearch(spec, searched)}\n` +
      fetchAdvice(spec),
  );
}
