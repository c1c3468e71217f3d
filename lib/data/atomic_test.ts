import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { withTempDir } from "./testdata/temp_dir.ts";

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("writeFileAtomic creates directories, replaces the whole file, leaves no temporary file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "sub", "log.jsonl");
    await writeFileAtomic(path, "a much longer first version\n");
    await writeFileAtomic(path, "short\n");
    assert.equal(await Deno.readTextFile(path), "short\n");
    await writeFileAtomic(path, Uint8Array.of(0, 255, 7));
    assert.deepEqual(await Deno.readFile(path), Uint8Array.of(0, 255, 7));
    assert.deepEqual(names(join(dir, "sub")), ["log.jsonl"]);
  });
});

Deno.test("writeFileAtomic: concurrent writers of one path never mix their contents", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "cache.json");
    const versions = Array.from({ length: 8 }, (_, i) => String(i).repeat(100_000 + i));
    await Promise.all(versions.map((v) => writeFileAtomic(path, v)));
    assert.ok(versions.includes(await Deno.readTextFile(path)), "the file is one writer's whole version");
    assert.deepEqual(names(dir), ["cache.json"]);
  });
});

Deno.test("writeFileAtomic: a failed write rethrows and leaves neither the file nor a temporary", async () => {
  await withTempDir(async (dir) => {
    // A directory in the way: the rename fails after the temporary file was written.
    await Deno.mkdir(join(dir, "taken", "inside"), { recursive: true });
    await assert.rejects(writeFileAtomic(join(dir, "taken"), "x"));
    assert.deepEqual(names(dir), ["taken"]);
  });
});
