import assert from "node:assert/strict";
import { join } from "node:path";
import { DATASETS } from "./dataset.ts";
import { findDataset } from "./locate.ts";
import { expectDataError, syntheticRecords, tinySpec, writeDataset } from "./testdata.ts";
import {
  checkLayout,
  datasetVariant,
  DOWNLOAD_STAMP,
  type DownloadStamp,
  HashCache,
  readVerifiedFile,
  sha256Hex,
  verifyDataset,
} from "./verify.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const cifar10 = DATASETS.cifar10;

Deno.test("sha256Hex matches the FIPS 180-2 'abc' vector", () => {
  assert.equal(
    sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("checkLayout: counts records; rejects partial records and out-of-range labels of every label set", async () => {
  const spec = tinySpec();
  assert.equal(checkLayout(syntheticRecords(spec, 5), spec, "x"), 5);
  const partial = await expectDataError(
    () => checkLayout(new Uint8Array(3073 * 2 + 7), spec, "f.bin"),
    "size",
  );
  assert.match(
    partial.message,
    /f\.bin: 6153 bytes is not a whole number of 3073-byte Tiny records \(2 records and 7 bytes/,
  );
  const bad = syntheticRecords(spec, 5, (i) => [i === 3 ? 3 : 0]);
  const label = await expectDataError(() => checkLayout(bad, spec, "f.bin"), "label");
  assert.match(label.message, /f\.bin: record 3 has class label 3, but Tiny class labels are 0\.\.2/);
  const c100 = DATASETS.cifar100;
  await expectDataError(() => checkLayout(syntheticRecords(c100, 2, () => [20, 0]), c100, "x"), "label");
  await expectDataError(() => checkLayout(syntheticRecords(c100, 2, () => [0, 100]), c100, "x"), "label");
  assert.equal(checkLayout(syntheticRecords(c100, 2, () => [19, 99]), c100, "x"), 2);
});

Deno.test("truncated and wrong-size files: expected vs actual bytes", async () => {
  await withTempDir(async (root) => {
    const dir = await writeDataset(root, cifar10, { "test_batch.bin": syntheticRecords(cifar10, 10) });
    const found = findDataset(cifar10, { searchDirs: [root] });
    const short = await expectDataError(
      () => readVerifiedFile(found, "test_batch.bin", new HashCache(null)),
      "size",
    );
    assert.ok(short.message.includes(join(dir, "test_batch.bin")));
    assert.match(
      short.message,
      /expected 30730000 bytes \(10000 records\), found 30730 bytes \(10 records\)/,
    );
    assert.match(short.message, /truncated/);
    await Deno.writeFile(join(dir, "test_batch.bin"), new Uint8Array(30730000 + 5));
    const long = await expectDataError(
      () => readVerifiedFile(found, "test_batch.bin", new HashCache(null)),
      "size",
    );
    assert.match(long.message, /found 30730005 bytes \(not a whole number of 3073-byte records\)/);
  });
});

Deno.test("checksum mismatch names the file, expected and actual sums, and says to re-download", async () => {
  await withTempDir(async (root) => {
    // Right size and layout (all labels 0, black images), wrong content.
    const bytes = new Uint8Array(cifar10.files["test_batch.bin"].size);
    const dir = await writeDataset(root, cifar10, { "test_batch.bin": bytes });
    const found = findDataset(cifar10, { searchDirs: [root] });
    const e = await expectDataError(
      () => readVerifiedFile(found, "test_batch.bin", new HashCache(null)),
      "checksum",
    );
    assert.ok(e.message.includes(join(dir, "test_batch.bin")));
    assert.ok(e.message.includes(`expected ${cifar10.files["test_batch.bin"].sha256["jpeg-rebuilt"]}`));
    assert.ok(e.message.includes(`actual   ${sha256Hex(bytes)}`));
    assert.match(e.message, /corrupt/);
    assert.match(e.message, /re-downloaded/);
    assert.match(e.message, /deno task data cifar10/);
  });
});

Deno.test("a missing file in the chosen directory is named, with the fetch command", async () => {
  await withTempDir(async (root) => {
    const spec = tinySpec();
    const dir = await writeDataset(root, spec, { "train.bin": syntheticRecords(spec, 4) });
    const e = await expectDataError(
      () => verifyDataset(spec, { searchDirs: [root], cacheDir: null }),
      "missing",
    );
    assert.match(e.message, new RegExp(`Tiny file test\\.bin is missing from ${dir}`));
    assert.match(e.message, /deno task data tiny/);
  });
});

Deno.test("no known sum: size and layout only, said in the check; bad labels still fail", async () => {
  await withTempDir(async (root) => {
    const spec = tinySpec();
    await writeDataset(root, spec, {
      "train.bin": syntheticRecords(spec, 4),
      "test.bin": syntheticRecords(spec, 2),
    });
    const result = await verifyDataset(spec, { searchDirs: [root], cacheDir: null });
    assert.deepEqual(result.checks.map((c) => [c.file, c.method, c.sha256]), [
      ["train.bin", "size-and-layout", null],
      ["test.bin", "size-and-layout", null],
    ]);
    assert.equal(result.variant, null);
    await writeDataset(root, spec, { "test.bin": syntheticRecords(spec, 2, (i) => [i + 2]) });
    const e = await expectDataError(
      () => verifyDataset(spec, { searchDirs: [root], cacheDir: null }),
      "label",
    );
    assert.match(e.message, /test\.bin: record 1 has class label 3/);
  });
});

Deno.test("manifest sums identify the variant; a download stamp verifies official files and catches later corruption", async () => {
  await withTempDir(async (root) => {
    const base = tinySpec();
    const train = syntheticRecords(base, 4);
    const test = syntheticRecords(base, 2);
    const spec = {
      ...base,
      files: {
        "train.bin": { size: train.length, sha256: { "jpeg-rebuilt": sha256Hex(train) } },
        "test.bin": { size: test.length, sha256: { "jpeg-rebuilt": sha256Hex(test) } },
      },
    };
    const dir = await writeDataset(root, spec, { "train.bin": train, "test.bin": test });
    const ok = await verifyDataset(spec, { searchDirs: [root], cacheDir: null });
    assert.deepEqual(ok.checks.map((c) => [c.method, c.variant]), [["manifest", "jpeg-rebuilt"], [
      "manifest",
      "jpeg-rebuilt",
    ]]);
    assert.equal(ok.variant, "jpeg-rebuilt");

    // Other bytes (the "official" files) with a stamp written at download time.
    const official = syntheticRecords(spec, 4, (i) => [(i + 1) % 3]);
    const stamp: DownloadStamp = {
      dataset: "tiny",
      source: "test",
      archiveMd5: "0".repeat(32),
      installedAt: new Date().toISOString(),
      files: { "train.bin": { size: official.length, sha256: sha256Hex(official) } },
    };
    await Deno.writeFile(join(dir, "train.bin"), official);
    await Deno.writeTextFile(join(dir, DOWNLOAD_STAMP), JSON.stringify(stamp));
    const found = findDataset(spec, { searchDirs: [root] });
    const stamped = await readVerifiedFile(found, "train.bin", new HashCache(null));
    assert.equal(stamped.check.method, "download-stamp");
    assert.equal(stamped.check.variant, "official");
    // Official train.bin beside a jpeg-rebuilt test.bin: mixed copies are refused.
    await expectDataError(() => verifyDataset(spec, { searchDirs: [root], cacheDir: null }), "variant");

    official[5000] ^= 1;
    await Deno.writeFile(join(dir, "train.bin"), official);
    const e = await expectDataError(
      () => readVerifiedFile(found, "train.bin", new HashCache(null)),
      "checksum",
    );
    assert.ok(e.message.includes(`expected ${stamp.files["train.bin"].sha256} (${DOWNLOAD_STAMP}`));
  });
});

Deno.test("the sha256 cache is keyed by path, size and mtime: reused when unchanged, recomputed after a change", async () => {
  await withTempDir(async (root) => {
    const base = tinySpec();
    const train = syntheticRecords(base, 4);
    const spec = {
      ...base,
      files: { ...base.files, "train.bin": { size: train.length, sha256: { v: sha256Hex(train) } } },
    };
    const dir = await writeDataset(root, spec, { "train.bin": train });
    const cacheDir = join(root, "cache");
    const found = findDataset(spec, { searchDirs: [root] });
    const first = await readVerifiedFile(found, "train.bin", new HashCache(cacheDir));
    assert.equal(first.check.cached, false);
    const cacheFile = JSON.parse(await Deno.readTextFile(join(cacheDir, "sha256.json")));
    assert.equal(Object.values(cacheFile).length, 1);
    const second = await readVerifiedFile(found, "train.bin", new HashCache(cacheDir));
    assert.equal(second.check.cached, true);
    // Same size, new content and mtime: the stale entry must not vouch for it.
    train[100] ^= 0xff;
    await Deno.writeFile(join(dir, "train.bin"), train);
    await Deno.utime(join(dir, "train.bin"), new Date(), new Date(Date.now() + 5000));
    await expectDataError(() => readVerifiedFile(found, "train.bin", new HashCache(cacheDir)), "checksum");
  });
});

Deno.test("datasetVariant ignores unknown variants and refuses mixtures", async () => {
  const check = (variant: string | null) => ({
    file: "f",
    path: `/p/${variant}`,
    size: 1,
    sha256: null,
    method: "manifest" as const,
    variant,
    cached: false,
  });
  assert.equal(datasetVariant(cifar10, [check("official"), check(null)]), "official");
  assert.equal(datasetVariant(cifar10, [check(null)]), null);
  const e = await expectDataError(
    () => datasetVariant(cifar10, [check("official"), check("jpeg-rebuilt")]),
    "variant",
  );
  assert.match(e.message, /mixed/);
});
