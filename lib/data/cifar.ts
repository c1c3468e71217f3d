/**
 * Readers for the official CIFAR-10 and CIFAR-100 binary layouts.
 *
 * A record is the label byte(s) followed by 3072 pixel bytes stored planar: 1024 red, 1024
 * green, 1024 blue, each row-major 32 x 32. Images come out NHWC with interleaved RGB, the
 * TensorFlow.js layout.
 *
 * @module
 */

import {
  type DatasetName,
  type DatasetSpec,
  datasetSpec,
  IMAGE_BYTES,
  IMAGE_CHANNELS,
  labelSpec,
  type SplitName,
} from "./dataset.ts";
import { findDataset } from "./locate.ts";
import { checkLayout, datasetVariant, type FileCheck, HashCache, readVerifiedFile } from "./verify.ts";

/** Images with labels: the unit every preprocessing step takes and returns. */
export interface LabeledImages {
  /** count * 32 * 32 * 3 bytes, NHWC, interleaved RGB. */
  readonly images: Uint8Array;
  /** count labels, each below numClasses. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly numClasses: number;
}

/** A loaded split of a data set, with where it came from and how it was verified. */
export interface CifarSplit extends LabeledImages {
  readonly dataset: string;
  readonly split: SplitName;
  /** Which label set `labels` holds ("class" for CIFAR-10, "fine" or "coarse" for CIFAR-100). */
  readonly labelSet: string;
  readonly classes: readonly string[];
  /** Full paths of the files read, in order. */
  readonly files: readonly string[];
  readonly dir: string;
  /** "official", "jpeg-rebuilt", or null when only size and layout could be checked. */
  readonly variant: string | null;
  readonly checks: readonly FileCheck[];
}

/** Options of {@link decodeCifar}. */
export interface DecodeOptions {
  /** Label set to return (default: the data set's default, "fine" for CIFAR-100). */
  readonly labels?: string;
  /** Names the bytes in error messages. */
  readonly source?: string;
}

/** Pixels of one planar record starting at `from` into NHWC image `to` of `out`. */
function planarToInterleaved(bytes: Uint8Array, from: number, out: Uint8Array, to: number): void {
  const plane = IMAGE_BYTES / IMAGE_CHANNELS;
  for (let p = 0, o = to; p < plane; p++, o += 3) {
    out[o] = bytes[from + p];
    out[o + 1] = bytes[from + plane + p];
    out[o + 2] = bytes[from + 2 * plane + p];
  }
}

/**
 * Decodes records in a data set's binary layout (any number of them, e.g. a sample file).
 * Checks the length is a whole number of records and every label byte is in range.
 */
export function decodeCifar(
  bytes: Uint8Array,
  dataset: DatasetName | DatasetSpec,
  options: DecodeOptions = {},
): LabeledImages & { readonly classes: readonly string[] } {
  const spec = datasetSpec(dataset);
  const label = labelSpec(spec, options.labels);
  const count = checkLayout(bytes, spec, options.source ?? `${spec.title} data`);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * spec.recordBytes;
    labels[i] = bytes[at + label.offset];
    planarToInterleaved(bytes, at + spec.labelBytes, images, i * IMAGE_BYTES);
  }
  return { images, labels, count, numClasses: label.classes.length, classes: label.classes };
}

/** Options of {@link loadCifar}. */
export interface LoadOptions {
  readonly dataset: DatasetName | DatasetSpec;
  readonly split: SplitName;
  /** CIFAR-100: "fine" (default, 100 classes) or "coarse" (20 superclasses). */
  readonly labels?: string;
  /** Look only in `<dataDir>/<dataset dir>/` instead of the default search (see `dataSearchDirs`). */
  readonly dataDir?: string;
  /** sha256 cache directory; null keeps it in memory (default `data/cache/`). */
  readonly cacheDir?: string | null;
}

const warnedUnverified = new Set<string>();

/**
 * Loads one split of CIFAR-10 or CIFAR-100, after verifying every file it reads (see
 * `readVerifiedFile`). Throws a `DataError` naming the problem and the fix when the data set is
 * missing, truncated, corrupt or out of range; never returns partial data.
 *
 * @example
 * ```ts
 * const train = await loadCifar({ dataset: "cifar10", split: "train" });
 * train.count; // 50000, train.images is 50000*32*32*3 bytes NHWC
 * ```
 */
export async function loadCifar(options: LoadOptions): Promise<CifarSplit> {
  const spec = datasetSpec(options.dataset);
  const label = labelSpec(spec, options.labels);
  const found = findDataset(spec, options.dataDir === undefined ? {} : { searchDirs: [options.dataDir] });
  const cache = new HashCache(options.cacheDir);
  const files = spec.splits[options.split];
  const total = files.reduce((n, f) => n + spec.files[f].size / spec.recordBytes, 0);
  const images = new Uint8Array(total * IMAGE_BYTES);
  const labels = new Uint8Array(total);
  const checks: FileCheck[] = [];
  let offset = 0;
  for (const file of files) {
    const { bytes, check } = await readVerifiedFile(found, file, cache);
    checks.push(check);
    const part = decodeCifar(bytes, spec, { labels: label.name, source: check.path });
    images.set(part.images, offset * IMAGE_BYTES);
    labels.set(part.labels, offset);
    offset += part.count;
  }
  const variant = datasetVariant(spec, checks);
  if (checks.some((c) => c.method === "size-and-layout") && !warnedUnverified.has(found.dir)) {
    warnedUnverified.add(found.dir);
    console.warn(
      `${spec.title} in ${found.dir}: no sha256 is known for these files (none in data/datasets.json, no ` +
        `download stamp), so only their size and label layout were checked. ` +
        `\`deno task data ${spec.name}\` installs a copy verified by the archive's published md5.`,
    );
  }
  return {
    images,
    labels,
    count: total,
    numClasses: label.classes.length,
    dataset: spec.name,
    split: options.split,
    labelSet: label.name,
    classes: label.classes,
    files: checks.map((c) => c.path),
    dir: found.dir,
    variant,
    checks,
  };
}
