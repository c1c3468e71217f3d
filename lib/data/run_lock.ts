/**
 * One process per run directory. A training run or search resumed twice at once (two terminals,
 * a script restarted while the first copy still runs) would have both write the same journal and
 * checkpoints; the second now stops at once with the first one's process id instead.
 *
 * The lock is a file holding the owner's pid, created exclusively. A lock whose process no longer
 * exists (killed, crashed, machine restarted) is stale and taken over; where that cannot be told
 * (no /proc), the error says which file to delete.
 *
 * @module
 */
import { join } from "node:path";

/** The lock file's name inside a run directory. */
export const RUN_LOCK = "lock";

/** A held lock; {@link release} removes it (only if still ours). */
export interface RunLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Whether process `pid` exists, or undefined where this system cannot tell. */
async function processExists(pid: number): Promise<boolean | undefined> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    try {
      await Deno.stat("/proc/self");
      return false;
    } catch {
      return undefined;
    }
  }
}

/**
 * Takes `dir`'s lock for this process (creating `dir` if needed). `what` names the job in the
 * error, e.g. "search btpbt-cnn7-long-s1".
 */
export async function acquireRunLock(dir: string, what: string): Promise<RunLock> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, RUN_LOCK);
  const mine = String(Deno.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await Deno.writeTextFile(path, mine, { createNew: true });
      return {
        path,
        release: async () => {
          const holder = await Deno.readTextFile(path).catch(() => "");
          if (holder === mine) await Deno.remove(path).catch(() => {});
        },
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const holder = Number(await Deno.readTextFile(path).catch(() => ""));
    const alive = Number.isSafeInteger(holder) && holder > 0 ? await processExists(holder) : false;
    if (alive === true) {
      throw new Error(
        `${what} is already running in process ${holder} (${path}); wait for it or stop it, then rerun`,
      );
    }
    if (alive === undefined) {
      throw new Error(
        `${what}: ${path} says process ${holder} runs it; if it does not, delete that file and rerun`,
      );
    }
    // Stale: its process is gone.
    await Deno.remove(path).catch(() => {});
  }
  throw new Error(`${what}: could not take ${path} (another process keeps taking it)`);
}
