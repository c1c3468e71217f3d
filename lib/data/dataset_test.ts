import assert from "node:assert/strict";
import {
  CIFAR100_CLASSES,
  CIFAR100_COARSE_CLASSES,
  CIFAR10_CLASSES,
  DataError,
  DATASETS,
  datasetSpec,
  IMAGE_BYTES,
  isDatasetName,
  labelSpec,
} from "./dataset.ts";
import { REPO_ROOT } from "./locate.ts";

const SHARED = `${REPO_ROOT}/../shared/data/cifar-10-batches-bin`;
const hasShared = (() => {
  try {
    return Deno.statSync(`${SHARED}/SHA256SUMS`).isFile;
  } catch {
    return false;
  }
})();

Deno.test("manifest: every data set is self-consistent", () => {
  for (const spec of Object.values(DATASETS)) {
    assert.equal(spec.recordBytes, spec.labelBytes + IMAGE_BYTES, spec.name);
    for (const label of Object.values(spec.labels)) assert.ok(label.offset < spec.labelBytes, spec.name);
    assert.ok(spec.labels[spec.defaultLabels], `${spec.name} default labels`);
    const splitFiles = Object.values(spec.splits).flat();
    assert.deepEqual(
      [...splitFiles].sort(),
      Object.keys(spec.files).sort(),
      `${spec.name}: splits cover files`,
    );
    for (const [file, f] of Object.entries(spec.files)) {
      assert.equal(f.size % spec.recordBytes, 0, `${spec.name}/${file} size is whole records`);
      for (const sum of Object.values(f.sha256)) assert.match(sum, /^[0-9a-f]{64}$/);
      for (const variant of Object.keys(f.sha256)) assert.ok(spec.variants[variant], `${variant} described`);
    }
    assert.match(spec.archive.md5, /^[0-9a-f]{32}$/);
    assert.match(spec.archive.url, /^https:\/\/www\.cs\.toronto\.edu\/~kriz\/.*-binary\.tar\.gz$/);
    assert.ok(spec.variants.official, `${spec.name} accepts the official files`);
  }
  const records = (name: "cifar10" | "cifar100", split: "train" | "test") =>
    DATASETS[name].splits[split].reduce(
      (n, f) => n + DATASETS[name].files[f].size / DATASETS[name].recordBytes,
      0,
    );
  assert.deepEqual([records("cifar10", "train"), records("cifar10", "test")], [50000, 10000]);
  assert.deepEqual([records("cifar100", "train"), records("cifar100", "test")], [50000, 10000]);
});

Deno.test("class names: 10, 100 fine and 20 coarse, distinct", () => {
  for (
    const [list, n] of [[CIFAR10_CLASSES, 10], [CIFAR100_CLASSES, 100], [
      CIFAR100_COARSE_CLASSES,
      20,
    ]] as const
  ) {
    assert.equal(list.length, n);
    assert.equal(new Set(list).size, n);
  }
  assert.equal(CIFAR10_CLASSES[6], "frog");
  assert.equal(CIFAR100_CLASSES[0], "apple");
  assert.equal(CIFAR100_COARSE_CLASSES[19], "vehicles_2");
});

Deno.test({
  name:
    "manifest: CIFAR-10 sums and class names agree with the shared copy's SHA256SUMS and batches.meta.txt",
  ignore: !hasShared,
  fn: async () => {
    const sums = new Map(
      (await Deno.readTextFile(`${SHARED}/SHA256SUMS`)).trim().split("\n").map((l) => {
        const [sum, name] = l.split(/\s+/);
        return [name, sum] as const;
      }),
    );
    for (const [file, f] of Object.entries(DATASETS.cifar10.files)) {
      assert.equal(f.sha256["jpeg-rebuilt"], sums.get(file), file);
    }
    const meta = (await Deno.readTextFile(`${SHARED}/batches.meta.txt`)).split("\n").filter((l) => l.trim());
    assert.deepEqual(meta, [...CIFAR10_CLASSES]);
  },
});

Deno.test("datasetSpec and labelSpec reject unknown names with the valid ones", () => {
  assert.equal(datasetSpec("cifar100").dir, "cifar-100-binary");
  assert.ok(isDatasetName("cifar10") && !isDatasetName("mnist"));
  assert.throws(
    () => datasetSpec("mnist" as "cifar10"),
    (e: unknown) => e instanceof DataError && e.code === "usage" && /cifar10, cifar100/.test(e.message),
  );
  assert.equal(labelSpec(DATASETS.cifar100).name, "fine");
  assert.equal(labelSpec(DATASETS.cifar100, "coarse").offset, 0);
  assert.throws(
    () => labelSpec(DATASETS.cifar10, "coarse"),
    /CIFAR-10 has no 'coarse' labels: use one of class/,
  );
});
