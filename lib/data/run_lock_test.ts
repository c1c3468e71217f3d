import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireRunLock, RUN_LOCK } from "./run_lock.ts";

/** A pid that no process has now (a finished child's). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("run lock: a second holder is refused with the first one's pid; released, the lock can be taken again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run-lock-" });
  try {
    const lock = await acquireRunLock(join(dir, "run"), "search x");
    assert.equal(await Deno.readTextFile(join(dir, "run", RUN_LOCK)), String(Deno.pid));
    await assert.rejects(
      acquireRunLock(join(dir, "run"), "search x"),
      new RegExp(`search x is already running in process ${Deno.pid} \\(.*lock\\); wait for it or stop it`),
    );
    await lock.release();
    await assert.rejects(Deno.stat(join(dir, "run", RUN_LOCK)), Deno.errors.NotFound);
    await (await acquireRunLock(join(dir, "run"), "search x")).release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run lock: a lock left by a process that is gone (killed, crashed) is taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "run-lock-" });
  try {
    await Deno.writeTextFile(join(dir, RUN_LOCK), String(await deadPid()));
    const lock = await acquireRunLock(dir, "training run y");
    assert.equal(await Deno.readTextFile(join(dir, RUN_LOCK)), String(Deno.pid));
    await lock.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
