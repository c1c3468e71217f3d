/**
 * Synthetic data for the data layer's tests: records in a data set's binary layout and a tiny
 * data set spec, so error paths can be tested on small files in temporary directories.
 *
 * @module
 */

import { DataError, type DataErrorCode, type DatasetSpec, IMAGE_BYTES } from "./dataset.ts";

/** Pixel byte of record `i`, channel `c`, pixel `p` (row-major) in the default synthetic images. */
export function syntheticPixel(i: number, c: number, p: number): number {
  return (i * 31 + c * 101 + p * 7) & 255;
}

/**
 * `count` records in `spec`'s layout. Label bytes default to `i % classes` for each label set;
 * `labelBytes(i)` overrides them (one value per label byte, in record order).
 */
export function syntheticRecords(
  spec: DatasetSpec,
  count: number,
  labelBytes?: (i: number) => readonly number[],
): Uint8Array {
  const out = new Uint8Array(count * spec.recordBytes);
  const plane = IMAGE_BYTES / 3;
  for (let i = 0; i < count; i++) {
    const at = i * spec.recordBytes;
    if (labelBytes) out.set(labelBytes(i), at);
    else for (const l of Object.values(spec.labels)) out[at + l.offset] = i % l.classes.length;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < plane; p++) out[at + spec.labelBytes + c * plane + p] = syntheticPixel(i, c, p);
    }
  }
  return out;
}

/** A CIFAR-10-layout data set of 4 training and 2 test records, with no known sha256. */
export function tinySpec(): DatasetSpec {
  const recordBytes = 1 + IMAGE_BYTES;
  return {
    name: "tiny",
    title: "Tiny",
    dir: "tiny-bin",
    labelBytes: 1,
    recordBytes,
    splits: { train: ["train.bin"], test: ["test.bin"] },
    labels: { class: { offset: 0, classes: ["a", "b", "c"] } },
    defaultLabels: "class",
    archive: { url: "http://127.0.0.1:9/tiny.tar.gz", urlEnv: "SAFENET_TINY_URL", md5: "", root: "tiny-bin" },
    files: {
      "train.bin": { size: 4 * recordBytes, sha256: {} },
      "test.bin": { size: 2 * recordBytes, sha256: {} },
    },
    variants: { official: "test data" },
  };
}

/** Writes `files` (name -> bytes) into `<root>/<spec.dir>/` and returns that directory. */
export async function writeDataset(
  root: string,
  spec: DatasetSpec,
  files: Readonly<Record<string, Uint8Array>>,
): Promise<string> {
  const dir = `${root}/${spec.dir}`;
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(`${dir}/${name}`, bytes);
  return dir;
}

/** Runs `fn` and returns the `DataError` of kind `code` it throws; fails the test otherwise. */
export async function expectDataError(fn: () => unknown, code: DataErrorCode): Promise<DataError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof DataError && e.code === code) return e;
    throw new Error(`expected a DataError '${code}', got: ${e}`, { cause: e });
  }
  throw new Error(`expected a DataError '${code}', but nothing was thrown`);
}
