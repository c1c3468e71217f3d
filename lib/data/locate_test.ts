import assert from "node:assert/strict";
import { join } from "node:path";
import { DATASETS } from "./dataset.ts";
import { DATA_DIR_ENV, dataSearchDirs, findDataset, REPO_DATA_DIR, REPO_ROOT } from "./locate.ts";
import { expectDataError } from "./testdata.ts";

async function withEnv<T>(value: string | undefined, fn: () => T | Promise<T>): Promise<T> {
  const old = Deno.env.get(DATA_DIR_ENV);
  if (value === undefined) Deno.env.delete(DATA_DIR_ENV);
  else Deno.env.set(DATA_DIR_ENV, value);
  try {
    return await fn();
  } finally {
    if (old === undefined) Deno.env.delete(DATA_DIR_ENV);
    else Deno.env.set(DATA_DIR_ENV, old);
  }
}

Deno.test("REPO_ROOT comes from the module's location, not the working directory", () => {
  assert.ok(Deno.statSync(join(REPO_ROOT, "deno.json")).isFile);
  assert.ok(Deno.statSync(join(REPO_ROOT, "lib", "data", "locate.ts")).isFile);
  assert.equal(REPO_DATA_DIR, join(REPO_ROOT, "data"));
});

Deno.test("search order: $SAFENET_DATA_DIR, <repo>/data, <repo>/../shared/data", async () => {
  await withEnv("/tmp/somewhere", () => {
    assert.deepEqual(dataSearchDirs().map((d) => d.path), [
      "/tmp/somewhere",
      join(REPO_ROOT, "data"),
      join(REPO_ROOT, "..", "shared", "data"),
    ]);
  });
  await withEnv(undefined, () => assert.equal(dataSearchDirs()[0].path, join(REPO_ROOT, "data")));
});

Deno.test("findDataset takes the first directory that has the data set's folder", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(b, "cifar-100-binary"));
    assert.equal(findDataset("cifar100", { searchDirs: [a, b] }).dir, join(b, "cifar-100-binary"));
    await Deno.mkdir(join(a, "cifar-100-binary"));
    assert.equal(findDataset("cifar100", { searchDirs: [a, b] }).dir, join(a, "cifar-100-binary"));
    await withEnv(b, () => assert.equal(findDataset("cifar100").dir, join(b, "cifar-100-binary")));
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("findDataset: missing names the data set, every directory looked in, and the fetch command", async () => {
  const a = await Deno.makeTempDir();
  try {
    await withEnv(a, async () => {
      const err = await expectDataError(() => findDataset(DATASETS.cifar100), "missing");
      for (const d of dataSearchDirs()) {
        assert.ok(err.message.includes(join(d.path, "cifar-100-binary")), d.path);
      }
      assert.match(err.message, /CIFAR-100 not found/);
      assert.match(err.message, /`deno task data cifar100`/);
      assert.match(err.message, /SAFENET_DATA_DIR/);
    });
  } finally {
    await Deno.remove(a, { recursive: true });
  }
});
