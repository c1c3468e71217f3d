import assert from "node:assert/strict";
import { gitCommit, machineInfo, resultMeta } from "./meta.ts";
import { REPO_ROOT } from "../data/locate.ts";

Deno.test("resultMeta carries the run's profile, seed, dataset and the checkout's commit", async () => {
  const meta = await resultMeta({ profile: "smoke", seed: 7, dataset: "cifar10" });
  assert.equal(meta.profile, "smoke");
  assert.equal(meta.seed, 7);
  assert.equal(meta.dataset, "cifar10");
  assert.match(meta.commit, /^[0-9a-f]{40}(-dirty)?$/);
  assert.ok(!Number.isNaN(Date.parse(meta.timestamp)));
});

Deno.test("resultMeta records a missing dataset as null", async () => {
  assert.equal((await resultMeta({ profile: "smoke", seed: 0 })).dataset, null);
});

Deno.test("gitCommit names HEAD, with -dirty for source changes but not for outputs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const git = (...args: string[]) =>
      new Deno.Command("git", { args, cwd: dir, stdout: "null", stderr: "null" }).output();
    await git("init", "-q");
    await Deno.writeTextFile(`${dir}/a.txt`, "1");
    await git("add", "a.txt");
    await git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c");
    const head = await gitCommit(dir);
    assert.match(head, /^[0-9a-f]{40}$/);
    // Generated outputs do not make the tree dirty; source edits do.
    await Deno.mkdir(`${dir}/results`);
    await Deno.writeTextFile(`${dir}/results/r.json`, "{}");
    assert.equal(await gitCommit(dir), head);
    await Deno.writeTextFile(`${dir}/new.ts`, "");
    assert.equal(await gitCommit(dir), `${head}-dirty`, "an untracked source file");
    await Deno.remove(`${dir}/new.ts`);
    await Deno.writeTextFile(`${dir}/a.txt`, "2");
    assert.equal(await gitCommit(dir), `${head}-dirty`, "a modified tracked file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gitCommit is 'unknown' outside a git checkout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await gitCommit(dir), "unknown");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("machineInfo describes this machine", () => {
  const m = machineInfo();
  assert.ok(m.cores >= 1);
  assert.equal(m.deno, Deno.version.deno);
  assert.ok(m.os.startsWith(Deno.build.os));
  assert.ok(m.cpu.length > 0);
  assert.ok(REPO_ROOT.length > 0);
});
