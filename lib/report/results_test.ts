import assert from "node:assert/strict";
import { readResult, writeBenchmark, writeResult } from "./results.ts";

Deno.test("writeResult writes data with a meta block that readResult returns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeResult("demo", { xs: [1, 2, 3] }, { profile: "smoke", seed: 3 }, { dir });
    assert.equal(path, `${dir}/demo_smoke.json`);
    const file = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(Object.keys(file), ["meta", "data"]);
    assert.deepEqual(file.data, { xs: [1, 2, 3] });
    assert.equal(file.meta.profile, "smoke");
    assert.equal(file.meta.seed, 3);
    assert.match(file.meta.commit, /^[0-9a-f]{40}(-dirty)?$/);
    assert.ok(file.meta.machine.cores >= 1);
    assert.deepEqual(await readResult("demo", "smoke", { dir }), file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readResult explains a missing or malformed result", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readResult("absent", "quick", { dir }), /deno task reproduce --profile quick/);
    await Deno.writeTextFile(`${dir}/bad_quick.json`, "[1]");
    await assert.rejects(readResult("bad", "quick", { dir }), /not a result file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeResult refuses names that would leave the results directory", async () => {
  await assert.rejects(writeResult("../escape", {}, { profile: "smoke", seed: 0 }), /invalid output name/);
});

Deno.test("writeBenchmark keeps measurements at the top level beside machine and commit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeBenchmark(`${dir}/bench_x.json`, { cnn7: { train_img_s: 12.5 } }, {
      profile: "quick",
      seed: 3,
    });
    const file = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(file.cnn7, { train_img_s: 12.5 });
    assert.equal(file.commit, file.meta.commit);
    assert.match(file.commit, /^([0-9a-f]{40}(-dirty)?|unknown)$/);
    assert.equal(file.machine.cores, navigator.hardwareConcurrency);
    assert.equal(file.meta.profile, "quick");
    assert.equal(file.meta.seed, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
