/**
 * Dataset descriptions (from the manifest `data/datasets.json`) and the data layer's error type.
 *
 * A {@link DatasetSpec} says everything the readers, the verifier and the downloader need: the
 * directory name, the record layout, which files form each split, their sizes and known sha256
 * sums, and the official archive. Tests and custom data sets may build their own specs.
 *
 * @module
 */

import manifest from "../../data/datasets.json" with { type: "json" };

/** Names of the data sets in the manifest. */
export type DatasetName = "cifar10" | "cifar100";

/** Names of the splits of a data set. */
export type SplitName = "train" | "test";

/** Image geometry shared by the CIFAR data sets: 32 x 32 pixels, 3 channels (RGB). */
export const IMAGE_HEIGHT = 32;
/** Image width in pixels. */
export const IMAGE_WIDTH = 32;
/** Colour channels (R, G, B). */
export const IMAGE_CHANNELS = 3;
/** Bytes of one image: 32 * 32 * 3. */
export const IMAGE_BYTES = IMAGE_HEIGHT * IMAGE_WIDTH * IMAGE_CHANNELS;

/** One label byte of a record: where it sits and the class names it indexes. */
export interface LabelSpec {
  /** Byte offset of this label inside a record. */
  readonly offset: number;
  /** Class names; a label byte must be below `classes.length`. */
  readonly classes: readonly string[];
}

/** Expected size and known sha256 sums (by variant name) of one data file. */
export interface FileSpec {
  readonly size: number;
  /** Variant name -> sha256 hex; empty when no sum is known for any variant. */
  readonly sha256: Readonly<Record<string, string>>;
}

/** The official archive of a data set. */
export interface ArchiveSpec {
  readonly url: string;
  /** Environment variable that overrides `url` (for mirrors and tests). */
  readonly urlEnv: string;
  /** The md5 published by the data set's authors. */
  readonly md5: string;
  /** Directory inside the archive that holds the files. */
  readonly root: string;
}

/** Everything the data layer knows about one data set. */
export interface DatasetSpec {
  readonly name: string;
  readonly title: string;
  /** Directory name of the extracted files (looked for inside each data directory). */
  readonly dir: string;
  /** Label bytes at the start of each record, before the 3072 planar pixel bytes. */
  readonly labelBytes: number;
  readonly recordBytes: number;
  readonly splits: Readonly<Record<SplitName, readonly string[]>>;
  /** Label sets by name (CIFAR-10: "class"; CIFAR-100: "fine" and "coarse"). */
  readonly labels: Readonly<Record<string, LabelSpec>>;
  readonly defaultLabels: string;
  readonly archive: ArchiveSpec;
  readonly files: Readonly<Record<string, FileSpec>>;
  /** Variant name -> what it is (e.g. "official", "jpeg-rebuilt"). */
  readonly variants: Readonly<Record<string, string>>;
}

/** What went wrong, for callers that react to a kind of failure. */
export type DataErrorCode =
  | "missing"
  | "size"
  | "checksum"
  | "label"
  | "variant"
  | "network"
  | "archive"
  | "usage";

/** A data-layer failure with a message that names the problem and the fix. */
export class DataError extends Error {
  /** The kind of failure. */
  readonly code: DataErrorCode;
  /** Build an error of kind `code`. */
  constructor(code: DataErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DataError";
    this.code = code;
  }
}

/** The data sets of the manifest, by name. */
export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  cifar10: { name: "cifar10", ...manifest.cifar10 },
  cifar100: { name: "cifar100", ...manifest.cifar100 },
};

/** CIFAR-10 class names, indexed by label. */
export const CIFAR10_CLASSES: readonly string[] = DATASETS.cifar10.labels.class.classes;
/** CIFAR-100 fine class names (100), indexed by fine label. */
export const CIFAR100_CLASSES: readonly string[] = DATASETS.cifar100.labels.fine.classes;
/** CIFAR-100 coarse class names (20 superclasses), indexed by coarse label. */
export const CIFAR100_COARSE_CLASSES: readonly string[] = DATASETS.cifar100.labels.coarse.classes;

/** True when `name` is a data set of the manifest. */
export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(DATASETS, name);
}

/** The spec of a data set given by name (or a spec, returned as is). */
export function datasetSpec(dataset: DatasetName | DatasetSpec): DatasetSpec {
  if (typeof dataset !== "string") return dataset;
  if (!isDatasetName(dataset)) {
    throw new DataError(
      "usage",
      `unknown data set '${dataset}': known are ${Object.keys(DATASETS).join(", ")}`,
    );
  }
  return DATASETS[dataset];
}

/** The label set `labels` of a spec (its default when omitted), or a usage error naming the valid ones. */
export function labelSpec(spec: DatasetSpec, labels?: string): LabelSpec & { name: string } {
  const name = labels ?? spec.defaultLabels;
  const found = spec.labels[name];
  if (!found) {
    throw new DataError(
      "usage",
      `${spec.title} has no '${name}' labels: use one of ${Object.keys(spec.labels).join(", ")}`,
    );
  }
  return { name, ...found };
}
