/**
 * Verification of data files before use: presence, exact size, record layout (label bytes in
 * range) and sha256 against the manifest or against the stamp written when the official archive
 * was downloaded and its md5 checked.
 *
 * Hashing the 180 MB of CIFAR-10 takes about a second, so a file's sha256 is cached under
 * `data/cache/` keyed by real path, size and modification time, and computed once.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { DataError, type DatasetName, type DatasetSpec, datasetSpec, type SplitName } from "./dataset.ts";
import {
  describeSearch,
  fetchAdvice,
  findDataset,
  type FindOptions,
  type FoundDataset,
  REPO_DATA_DIR,
} from "./locate.ts";

/** Name of the stamp `deno task data` writes beside the files it extracted from a verified archive. */
export const DOWNLOAD_STAMP = ".safenet-download.json";

/** Default directory of the sha256 cache (gitignored). */
export const DEFAULT_CACHE_DIR: string = join(REPO_DATA_DIR, "cache");

/** Contents of {@link DOWNLOAD_STAMP}: the archive that was checked and the files taken from it. */
export interface DownloadStamp {
  readonly dataset: string;
  /** URL or local path of the archive. */
  readonly source: string;
  /** The archive's md5, equal to the manifest's when it was installed. */
  readonly archiveMd5: string;
  readonly installedAt: string;
  /** File name -> size and sha256 computed while extracting. */
  readonly files: Readonly<Record<string, { readonly size: number; readonly sha256: string }>>;
}

/** How a file was verified. */
export type VerifyMethod =
  /** sha256 equals a variant's sum in data/datasets.json. */
  | "manifest"
  /** sha256 equals the stamp written after the archive's published md5 was checked. */
  | "download-stamp"
  /** No sum known: size and label bytes checked only. */
  | "size-and-layout";

/** The outcome of verifying one file. */
export interface FileCheck {
  readonly file: string;
  readonly path: string;
  readonly size: number;
  /** Null when no sum was known to compare with (then the file was not hashed). */
  readonly sha256: string | null;
  readonly method: VerifyMethod;
  /** "official", "jpeg-rebuilt", ...; null when unknown (size-and-layout). */
  readonly variant: string | null;
  /** True when the sha256 came from the cache rather than from hashing now. */
  readonly cached: boolean;
}

/** Options of the verifier. */
export interface VerifyOptions {
  /** Directory of the sha256 cache; null keeps it in memory. Default {@link DEFAULT_CACHE_DIR}. */
  readonly cacheDir?: string | null;
}

/** Lower-case hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Checks that `bytes` is a whole number of records and that every label byte is in range.
 * `source` names the file in messages. Returns the record count.
 */
export function checkLayout(bytes: Uint8Array, spec: DatasetSpec, source: string): number {
  if (bytes.length % spec.recordBytes !== 0) {
    throw new DataError(
      "size",
      `${source}: ${bytes.length} bytes is not a whole number of ${spec.recordBytes}-byte ${spec.title} ` +
        `records (${Math.floor(bytes.length / spec.recordBytes)} records and ${
          bytes.length % spec.recordBytes
        } ` +
        `bytes left over): the file is truncated or not in the ${spec.title} binary layout.`,
    );
  }
  const count = bytes.length / spec.recordBytes;
  for (const [name, label] of Object.entries(spec.labels)) {
    const limit = label.classes.length;
    for (let i = 0, at = label.offset; i < count; i++, at += spec.recordBytes) {
      if (bytes[at] >= limit) {
        throw new DataError(
          "label",
          `${source}: record ${i} has ${name} label ${bytes[at]}, but ${spec.title} ${name} labels are ` +
            `0..${limit - 1}: the file is corrupt or not ${spec.title} (re-download it).`,
        );
      }
    }
  }
  return count;
}

/** The download stamp in `dir`, or null when there is none. */
async function readDownloadStamp(dir: string): Promise<DownloadStamp | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, DOWNLOAD_STAMP))) as DownloadStamp;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new DataError("archive", `unreadable download stamp ${join(dir, DOWNLOAD_STAMP)}: ${e}`);
  }
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * The sha256 cache: entries keyed by real path and valid while size and modification time are
 * unchanged; one small JSON file, rewritten atomically so concurrent runs never read half of it.
 */
export class HashCache {
  readonly #file: string | null;
  #entries: Record<string, CacheEntry> | null = null;

  /** A cache in `dir` (default {@link DEFAULT_CACHE_DIR}); null keeps it in memory only. */
  constructor(dir: string | null = DEFAULT_CACHE_DIR) {
    this.#file = dir === null ? null : join(dir, "sha256.json");
  }

  async #load(): Promise<Record<string, CacheEntry>> {
    if (this.#entries) return this.#entries;
    this.#entries = {};
    if (this.#file) {
      try {
        this.#entries = JSON.parse(await Deno.readTextFile(this.#file));
      } catch {
        // Missing or unreadable: start empty; the cache only saves time.
      }
    }
    return this.#entries!;
  }

  /** The cached sha256 of `key`, or null when absent or stale. */
  async get(key: string, size: number, mtimeMs: number): Promise<string | null> {
    const e = (await this.#load())[key];
    return e && e.size === size && e.mtimeMs === mtimeMs ? e.sha256 : null;
  }

  /** Records a sha256 (and writes the cache file; failures to write are ignored). */
  async set(key: string, entry: CacheEntry): Promise<void> {
    const entries = await this.#load();
    entries[key] = entry;
    if (!this.#file) return;
    try {
      await writeFileAtomic(this.#file, JSON.stringify(entries, null, 1));
    } catch {
      // A read-only checkout cannot cache; verification still happened.
    }
  }
}

async function statFile(found: FoundDataset, file: string): Promise<Deno.FileInfo> {
  const { spec, dir } = found;
  try {
    const info = await Deno.stat(join(dir, file));
    if (info.isFile) return info;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  throw new DataError(
    "missing",
    `${spec.title} file ${file} is missing from ${dir}. That directory was used because it is the first ` +
      `that exists of\n${describeSearch(spec, found.searched)}\nComplete it or remove it. ${
        fetchAdvice(spec)
      }`,
  );
}

function checkSize(spec: DatasetSpec, path: string, file: string, size: number): void {
  const expected = spec.files[file]?.size;
  if (expected === undefined) {
    throw new DataError("usage", `${file} is not a file of ${spec.title} (manifest data/datasets.json)`);
  }
  if (size === expected) return;
  const records = (n: number) =>
    n % spec.recordBytes === 0
      ? `${n / spec.recordBytes} records`
      : `not a whole number of ${spec.recordBytes}-byte records`;
  throw new DataError(
    "size",
    `${path}: expected ${expected} bytes (${records(expected)}), found ${size} bytes (${records(size)}): ` +
      `the file is ${size < expected ? "truncated" : "too long"} or not the ${spec.title} file ${file}. ` +
      `Re-download it with \`deno task data ${spec.name}\`.`,
  );
}

function checksumError(spec: DatasetSpec, path: string, actual: string, expected: string): DataError {
  return new DataError(
    "checksum",
    `checksum mismatch for ${spec.title} file ${path}:\n  sha256 expected ${expected}\n  sha256 actual   ${actual}\n` +
      `The file is corrupt (or an unrecognised copy) and should be re-downloaded: remove ${
        join(path, "..")
      } ` +
      `and run \`deno task data ${spec.name}\`. If you hold the official archive, ` +
      `\`deno task data ${spec.name} --archive <file.tar.gz>\` installs it after checking its published md5.`,
  );
}

/**
 * Reads one file of a found data set and verifies it: present, exact size, labels in range, and
 * sha256 equal to a manifest variant's sum or to the download stamp's. With neither sum known the
 * file is checked for size and layout only (`method: "size-and-layout"`). Throws a
 * {@link DataError} naming the file and the fix otherwise.
 */
export async function readVerifiedFile(
  found: FoundDataset,
  file: string,
  cache: HashCache = new HashCache(),
): Promise<{ bytes: Uint8Array; check: FileCheck }> {
  const { spec, dir } = found;
  const path = join(dir, file);
  const info = await statFile(found, file);
  checkSize(spec, path, file, info.size);
  const bytes = await Deno.readFile(path);
  checkSize(spec, path, file, bytes.length); // the file may have changed since stat
  checkLayout(bytes, spec, path);

  const known = Object.entries(spec.files[file].sha256);
  const stamped = (await readDownloadStamp(dir))?.files[file];
  const base = { file, path, size: bytes.length };
  if (known.length === 0 && !stamped) {
    return {
      bytes,
      check: { ...base, sha256: null, method: "size-and-layout", variant: null, cached: false },
    };
  }

  const key = await Deno.realPath(path);
  const mtimeMs = info.mtime?.getTime() ?? null;
  let sha256 = mtimeMs === null ? null : await cache.get(key, bytes.length, mtimeMs);
  const cached = sha256 !== null;
  if (sha256 === null) {
    sha256 = sha256Hex(bytes);
    if (mtimeMs !== null) await cache.set(key, { size: bytes.length, mtimeMs, sha256 });
  }

  const match = known.find(([, sum]) => sum === sha256);
  if (match) return { bytes, check: { ...base, sha256, method: "manifest", variant: match[0], cached } };
  if (stamped) {
    if (stamped.sha256 !== sha256) {
      throw checksumError(spec, path, sha256, `${stamped.sha256} (${DOWNLOAD_STAMP}, written at download)`);
    }
    return { bytes, check: { ...base, sha256, method: "download-stamp", variant: "official", cached } };
  }
  const expected = known.map(([variant, sum]) => `${sum} (${variant} variant, data/datasets.json)`);
  throw checksumError(spec, path, sha256, expected.join(" or "));
}

/**
 * The variant of a set of verified files ("official", "jpeg-rebuilt", or null when none could be
 * identified). Throws when files of different variants are mixed in one directory.
 */
export function datasetVariant(spec: DatasetSpec, checks: readonly FileCheck[]): string | null {
  const variants = [...new Set(checks.map((c) => c.variant).filter((v) => v !== null))];
  if (variants.length > 1) {
    const list = checks.map((c) => `  ${c.path}: ${c.variant ?? "unknown"}`).join("\n");
    throw new DataError(
      "variant",
      `${spec.title} files of different variants are mixed:\n${list}\n` +
        `Use one complete copy: re-download with \`deno task data ${spec.name}\`.`,
    );
  }
  return variants[0] ?? null;
}

/** Result of {@link verifyDataset}. */
export interface DatasetCheck {
  readonly found: FoundDataset;
  readonly checks: readonly FileCheck[];
  readonly variant: string | null;
}

/**
 * Finds a data set and verifies the files of the given splits (default all), one file in memory
 * at a time. Throws a {@link DataError} on the first problem.
 */
export async function verifyDataset(
  dataset: DatasetName | DatasetSpec,
  options: FindOptions & VerifyOptions & { readonly splits?: readonly SplitName[] } = {},
): Promise<DatasetCheck> {
  const spec = datasetSpec(dataset);
  const found = findDataset(spec, options);
  const cache = new HashCache(options.cacheDir);
  const files = (options.splits ?? (Object.keys(spec.splits) as SplitName[])).flatMap((s) => spec.splits[s]);
  const checks: FileCheck[] = [];
  for (const file of files) checks.push((await readVerifiedFile(found, file, cache)).check);
  return { found, checks, variant: datasetVariant(spec, checks) };
}
