/**
 * Fetching and installing the official data set archives: download with a progress callback and
 * a short connect timeout, check the published md5, gunzip, untar into `<data root>/<dir>/`, and
 * write a stamp with each file's sha256 so later loads can verify the files.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { DataError, type DatasetName, type DatasetSpec, datasetSpec } from "./dataset.ts";
import {
  DATA_DIR_ENV,
  describeSearch,
  findDataset,
  type FindOptions,
  type FoundDataset,
  REPO_DATA_DIR,
  resolveSearchDirs,
  type SearchDir,
} from "./locate.ts";
import { readTar } from "./tar.ts";
import {
  checkLayout,
  type DatasetCheck,
  DOWNLOAD_STAMP,
  type DownloadStamp,
  sha256Hex,
  verifyDataset,
  type VerifyOptions,
} from "./verify.ts";

/** Where downloads go by default: `$SAFENET_DATA_DIR` when set (it is searched first), else `<repo>/data`. */
export function defaultDataRoot(): string {
  return resolve(Deno.env.get(DATA_DIR_ENV) || REPO_DATA_DIR);
}

/** The archive URL of a data set: its environment override (e.g. `SAFENET_CIFAR10_URL`) or the official one. */
function archiveUrl(spec: DatasetSpec): string {
  return Deno.env.get(spec.archive.urlEnv) || spec.archive.url;
}

/** Options of {@link installArchive}. */
export interface InstallOptions {
  /** Directory that receives `<spec.dir>/` (default {@link defaultDataRoot}). */
  readonly dataRoot?: string;
  /** Expected md5 of the archive (default: the published one from the manifest). */
  readonly md5?: string;
}

/** What {@link installArchive} installed. */
export interface Installed {
  readonly dir: string;
  /** Names of the files extracted, data files first. */
  readonly files: readonly string[];
  readonly stamp: DownloadStamp;
}

/** Lower-case hex md5 of `bytes`. */
export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

async function gunzip(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DataError("archive", `${source} is not a valid gzip file (${e})`);
  }
}

/** A safe relative path under the archive root, or null for entries outside it. */
function relativeName(name: string, root: string): string | null {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts[0] !== root || parts.length < 2) return null;
  const rest = parts.slice(1);
  if (rest.some((p) => p === "..")) {
    throw new DataError("archive", `archive entry '${name}' escapes its directory`);
  }
  return rest.join("/");
}

/**
 * Installs a data set from its `.tar.gz` archive bytes: checks the md5, unpacks the files under
 * the archive's root directory into a temporary directory beside the target, checks each data
 * file's size and layout, writes the download stamp, then moves the directory into place
 * (replacing an old copy). Nothing is installed when a check fails.
 */
export async function installArchive(
  dataset: DatasetName | DatasetSpec,
  archive: Uint8Array,
  source: string,
  options: InstallOptions = {},
): Promise<Installed> {
  const spec = datasetSpec(dataset);
  const md5 = md5Hex(archive);
  const expected = (options.md5 ?? spec.archive.md5).toLowerCase();
  if (md5 !== expected) {
    throw new DataError(
      "checksum",
      `${spec.title} archive from ${source} has md5 ${md5}, expected ${expected} (the published md5): ` +
        `the download is corrupt or not the official archive. Nothing was installed; download it again.`,
    );
  }
  const entries = [...readTar(await gunzip(archive, source))]
    .map((e) => ({ ...e, rel: e.type === "file" ? relativeName(e.name, spec.archive.root) : null }))
    .filter((e) => e.rel !== null);
  const byName = new Map(entries.map((e) => [e.rel!, e.data]));
  const stampFiles: Record<string, { size: number; sha256: string }> = {};
  for (const [file, { size }] of Object.entries(spec.files)) {
    const data = byName.get(file);
    if (!data) {
      throw new DataError(
        "archive",
        `${spec.title} archive from ${source} lacks ${spec.archive.root}/${file}`,
      );
    }
    if (data.length !== size) {
      throw new DataError(
        "size",
        `${spec.title} archive from ${source}: ${file} has ${data.length} bytes, expected ${size}`,
      );
    }
    checkLayout(data, spec, `${source}:${spec.archive.root}/${file}`);
    stampFiles[file] = { size, sha256: sha256Hex(data) };
  }

  const root = options.dataRoot ?? defaultDataRoot();
  const dir = join(root, spec.dir);
  const partial = join(root, `.${spec.dir}.partial-${crypto.randomUUID()}`);
  const stamp: DownloadStamp = {
    dataset: spec.name,
    source,
    archiveMd5: md5,
    installedAt: new Date().toISOString(),
    files: stampFiles,
  };
  try {
    for (const [rel, data] of byName) {
      await Deno.mkdir(join(partial, rel, ".."), { recursive: true });
      await Deno.writeFile(join(partial, rel), data);
    }
    await Deno.writeTextFile(join(partial, DOWNLOAD_STAMP), JSON.stringify(stamp, null, 2) + "\n");
    const old = join(root, `.${spec.dir}.old-${crypto.randomUUID()}`);
    const replacing = await Deno.rename(dir, old).then(() => true, (e) => {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    });
    await Deno.rename(partial, dir);
    if (replacing) await Deno.remove(old, { recursive: true });
  } catch (e) {
    await Deno.remove(partial, { recursive: true }).catch(() => {});
    throw e;
  }
  const dataFiles = Object.keys(spec.files);
  const files = [...dataFiles, ...[...byName.keys()].filter((f) => !dataFiles.includes(f)).sort()];
  return { dir, files, stamp };
}

/** Options of {@link downloadArchive}. */
export interface DownloadOptions {
  /** Archive URL (default {@link archiveUrl}). */
  readonly url?: string;
  /** Give up when no response headers arrive within this time (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Give up when no bytes arrive for this long mid-download (default 30000 ms). */
  readonly stallTimeoutMs?: number;
  /** Called after each chunk; `total` is null when the server sends no length. */
  readonly onProgress?: (received: number, total: number | null) => void;
  /** Listed in the error message as the places the data set was looked for. */
  readonly searched?: readonly SearchDir[];
}

function networkError(
  spec: DatasetSpec,
  url: string,
  why: string,
  searched: readonly SearchDir[],
): DataError {
  return new DataError(
    "network",
    `could not download ${spec.title} from ${url}: ${why}.\n` +
      `${spec.title} was looked for in\n${describeSearch(spec, searched)}\n` +
      `Without a network: copy the official files (${Object.keys(spec.files).join(", ")} in ${spec.dir}/) ` +
      `into one of these directories, or set ${DATA_DIR_ENV} to a directory that contains ${spec.dir}/, or, ` +
      `holding the archive, run \`deno task data ${spec.name} --archive <file.tar.gz>\`.`,
  );
}

/**
 * Downloads a data set's archive into memory. Fails within `connectTimeoutMs` when the server
 * cannot be reached, with a "network" `DataError` that says where the data set was looked for
 * and how to install it by hand.
 */
export async function downloadArchive(
  dataset: DatasetName | DatasetSpec,
  options: DownloadOptions = {},
): Promise<Uint8Array> {
  const spec = datasetSpec(dataset);
  const url = options.url ?? archiveUrl(spec);
  const searched = options.searched ?? resolveSearchDirs();
  const fail = (why: string) => networkError(spec, url, why, searched);
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number, why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(fail(why)), ms);
  };
  const connectMs = options.connectTimeoutMs ?? 5000;
  const stallMs = options.stallTimeoutMs ?? 30000;
  try {
    arm(connectMs, `no response within ${connectMs / 1000} s`);
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw fail(`HTTP ${response.status} ${response.statusText}`);
    }
    const length = Number(response.headers.get("content-length"));
    const total = Number.isFinite(length) && length > 0 ? length : null;
    const chunks: Uint8Array[] = [];
    let received = 0;
    const reader = response.body.getReader();
    for (;;) {
      arm(stallMs, `no data for ${stallMs / 1000} s after ${received} bytes`);
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      options.onProgress?.(received, total);
    }
    if (total !== null && received !== total) {
      throw fail(`connection closed after ${received} of ${total} bytes`);
    }
    const archive = new Uint8Array(received);
    let at = 0;
    for (const c of chunks) {
      archive.set(c, at);
      at += c.length;
    }
    return archive;
  } catch (e) {
    if (e instanceof DataError) throw e;
    const reason = controller.signal.reason;
    if (controller.signal.aborted && reason instanceof DataError) throw reason;
    // Deno's fetch puts the useful part (DNS failure, refused connection) in the cause.
    const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : "";
    throw fail(`${e instanceof Error ? e.message : String(e)}${cause}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link ensureDataset}. */
export interface EnsureOptions extends FindOptions, VerifyOptions, InstallOptions, DownloadOptions {
  /** Install from this local `.tar.gz` instead of downloading (implies `force`). */
  readonly archivePath?: string;
  /** Reinstall even when a valid copy is present. */
  readonly force?: boolean;
  /** Receives one line per step (for the command line). */
  readonly log?: (line: string) => void;
}

/** Result of {@link ensureDataset}. */
export interface Ensured extends DatasetCheck {
  /** "present": a valid copy was already there; "installed": one was installed now. */
  readonly status: "present" | "installed";
}

/**
 * Makes a verified copy of a data set available: if the first copy found verifies, says so;
 * otherwise downloads (or reads `archivePath`), installs into the data root and verifies the
 * result. An invalid copy outside the data root is never replaced: the error says to fix or
 * remove it, since it would shadow a new one in the search.
 */
export async function ensureDataset(
  dataset: DatasetName | DatasetSpec,
  options: EnsureOptions = {},
): Promise<Ensured> {
  const spec = datasetSpec(dataset);
  const log = options.log ?? (() => {});
  const root = resolve(options.dataRoot ?? defaultDataRoot());
  const target = join(root, spec.dir);
  const searched = resolveSearchDirs(options.searchDirs);
  let found: FoundDataset | null = null;
  try {
    found = findDataset(spec, { searchDirs: searched });
  } catch (e) {
    if (!(e instanceof DataError && e.code === "missing")) throw e;
  }
  if (found && !options.force && !options.archivePath) {
    try {
      const check = await verifyDataset(spec, { ...options, searchDirs: searched });
      return { status: "present", ...check };
    } catch (e) {
      if (!(e instanceof DataError) || found.dir !== target) {
        const why = e instanceof Error ? e.message : String(e);
        throw new DataError(
          e instanceof DataError ? e.code : "archive",
          `${why}\nThe copy in ${found.dir} is found first in the search, so a new download would not be ` +
            `used: repair or remove that copy, or point ${DATA_DIR_ENV} at a directory to download into.`,
          { cause: e },
        );
      }
      log(`${spec.name}: the copy in ${found.dir} is invalid, reinstalling: ${e.message.split("\n")[0]}`);
    }
  }
  let archive: Uint8Array;
  let source: string;
  if (options.archivePath) {
    source = options.archivePath;
    log(`${spec.name}: reading ${source}`);
    archive = await Deno.readFile(source).catch((e) => {
      throw new DataError("missing", `cannot read archive ${source}: ${e.message}`);
    });
  } else {
    source = options.url ?? archiveUrl(spec);
    log(`${spec.name}: downloading ${source}`);
    archive = await downloadArchive(spec, { ...options, url: source, searched });
  }
  log(`${spec.name}: checking md5 and unpacking into ${target}`);
  await installArchive(spec, archive, source, { ...options, dataRoot: root });
  const check = await verifyDataset(spec, { ...options, searchDirs: [{ path: root, origin: "data root" }] });
  return { status: "installed", ...check };
}
