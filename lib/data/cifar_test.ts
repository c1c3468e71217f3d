import assert from "node:assert/strict";
import { join } from "node:path";
import { channelStats, CIFAR10_STATS } from "./augment.ts";
import { decodeCifar, loadCifar } from "./cifar.ts";
import { CIFAR100_CLASSES, CIFAR10_CLASSES, DATASETS, IMAGE_BYTES } from "./dataset.ts";
import { REPO_ROOT } from "./locate.ts";
import { expectDataError, syntheticPixel, syntheticRecords, tinySpec, writeDataset } from "./testdata.ts";
import { sha256Hex } from "./verify.ts";

const SHARED = join(REPO_ROOT, "..", "shared", "data");
const SAMPLE = join(SHARED, "cifar-10-lossless-sample");
const BATCHES = join(SHARED, "cifar-10-batches-bin");
const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

Deno.test("decodeCifar turns planar records into NHWC interleaved RGB", () => {
  const spec = tinySpec();
  const bytes = syntheticRecords(spec, 3);
  const { images, labels, count, numClasses } = decodeCifar(bytes, spec);
  assert.equal(count, 3);
  assert.equal(numClasses, 3);
  assert.deepEqual([...labels], [0, 1, 2]);
  for (let i = 0; i < 3; i++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          const p = y * 32 + x;
          assert.equal(images[i * IMAGE_BYTES + p * 3 + c], syntheticPixel(i, c, p));
          assert.equal(images[i * IMAGE_BYTES + p * 3 + c], bytes[i * spec.recordBytes + 1 + c * 1024 + p]);
        }
      }
    }
  }
});

Deno.test({
  name: "golden lossless sample: sha256, frog first, red row 59 43 50 68 98, same labels as data_batch_1",
  ignore: !exists(SAMPLE) || !exists(BATCHES),
  fn: async () => {
    const bytes = await Deno.readFile(join(SAMPLE, "train_first4000.bin"));
    const sums = await Deno.readTextFile(join(SAMPLE, "SHA256SUMS"));
    assert.ok(sums.includes(`${sha256Hex(bytes)}  train_first4000.bin`));
    const sample = decodeCifar(bytes, "cifar10", { source: "train_first4000.bin" });
    assert.equal(sample.count, 4000);
    assert.equal(sample.labels[0], 6);
    assert.equal(CIFAR10_CLASSES[sample.labels[0]], "frog");
    const red = Array.from({ length: 10 }, (_, x) => sample.images[x * 3]);
    assert.deepEqual(red, [59, 43, 50, 68, 98, 119, 139, 145, 149, 149]);

    // The first 4000 records of the (JPEG-rebuilt) shared data_batch_1.bin: same labels, close pixels.
    const file = await Deno.open(join(BATCHES, "data_batch_1.bin"));
    const head = new Uint8Array(bytes.length);
    for (let at = 0; at < head.length;) {
      const n = await file.read(head.subarray(at));
      assert.ok(n !== null, "data_batch_1.bin shorter than 4000 records");
      at += n;
    }
    file.close();
    const rebuilt = decodeCifar(head, "cifar10");
    assert.deepEqual(rebuilt.labels, sample.labels);
    let diff = 0;
    for (let i = 0; i < sample.images.length; i++) diff += Math.abs(sample.images[i] - rebuilt.images[i]);
    const meanDiff = diff / sample.images.length;
    assert.ok(meanDiff > 1 && meanDiff < 10, `JPEG error ${meanDiff} grey levels (about 5.8 expected)`);
  },
});

Deno.test({
  name:
    "loadCifar: the shared CIFAR-10 verifies (hashed once, then cached) and has 5000/1000 images per class",
  ignore: !exists(BATCHES),
  fn: async () => {
    const cacheDir = await Deno.makeTempDir();
    try {
      const train = await loadCifar({ dataset: "cifar10", split: "train", dataDir: SHARED, cacheDir });
      assert.equal(train.count, 50000);
      assert.equal(train.images.length, 50000 * IMAGE_BYTES);
      assert.equal(train.variant, "jpeg-rebuilt");
      assert.deepEqual(train.checks.map((c) => [c.method, c.cached]), Array(5).fill(["manifest", false]));
      assert.deepEqual(train.files, DATASETS.cifar10.splits.train.map((f) => join(BATCHES, f)));
      const counts = new Array(10).fill(0);
      for (const l of train.labels) counts[l]++;
      assert.deepEqual(counts, new Array(10).fill(5000));
      // Official mean/std within JPEG error of this copy's.
      const stats = channelStats(train.images);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(stats.mean[c] - CIFAR10_STATS.mean[c]) < 0.003, `mean ${c}: ${stats.mean[c]}`);
        assert.ok(Math.abs(stats.std[c] - CIFAR10_STATS.std[c]) < 0.003, `std ${c}: ${stats.std[c]}`);
      }

      const test = await loadCifar({ dataset: "cifar10", split: "test", dataDir: SHARED, cacheDir });
      assert.equal(test.count, 10000);
      assert.equal(test.numClasses, 10);
      const again = await loadCifar({ dataset: "cifar10", split: "test", dataDir: SHARED, cacheDir });
      assert.deepEqual(again.checks.map((c) => c.cached), [true]);
      assert.deepEqual(again.labels, test.labels);
      const testCounts = new Array(10).fill(0);
      for (const l of test.labels) testCounts[l]++;
      assert.deepEqual(testCounts, new Array(10).fill(1000));
    } finally {
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test("CIFAR-100 reader: fine labels by default, coarse on request, both range-checked", async () => {
  const spec = DATASETS.cifar100;
  const bytes = syntheticRecords(spec, 7, (i) => [i % 20, (i * 13) % 100]);
  const fine = decodeCifar(bytes, "cifar100");
  assert.equal(fine.numClasses, 100);
  assert.deepEqual([...fine.labels], [0, 13, 26, 39, 52, 65, 78]);
  assert.equal(fine.classes, CIFAR100_CLASSES);
  const coarse = decodeCifar(bytes, "cifar100", { labels: "coarse" });
  assert.equal(coarse.numClasses, 20);
  assert.deepEqual([...coarse.labels], [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(coarse.images, fine.images);
  assert.equal(fine.images[5 * IMAGE_BYTES + 100 * 3 + 2], syntheticPixel(5, 2, 100));
  await expectDataError(() => decodeCifar(syntheticRecords(spec, 2, () => [0, 100]), "cifar100"), "label");
  await expectDataError(() => decodeCifar(bytes, "cifar100", { labels: "superfine" }), "usage");
});

Deno.test("loadCifar CIFAR-100 from a data directory: size-and-layout check only, with a warning", async () => {
  const root = await Deno.makeTempDir();
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (msg: string) => warnings.push(msg);
  try {
    const spec = DATASETS.cifar100;
    await writeDataset(root, spec, { "test.bin": syntheticRecords(spec, 10000, (i) => [i % 20, i % 100]) });
    const test = await loadCifar({
      dataset: "cifar100",
      split: "test",
      dataDir: root,
      labels: "coarse",
      cacheDir: null,
    });
    assert.equal(test.count, 10000);
    assert.equal(test.labelSet, "coarse");
    assert.equal(test.labels[10021 % 10000], 1);
    assert.equal(test.variant, null);
    assert.equal(test.checks[0].method, "size-and-layout");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /only their size and label layout were checked/);
    const e = await expectDataError(
      () => loadCifar({ dataset: "cifar100", split: "train", dataDir: root }),
      "missing",
    );
    assert.match(e.message, /CIFAR-100 file train\.bin is missing/);
  } finally {
    console.warn = warn;
    await Deno.remove(root, { recursive: true });
  }
});
