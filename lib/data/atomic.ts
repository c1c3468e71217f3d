/**
 * Atomic file replacement, shared by every layer that writes files readers may see at any
 * moment (sha256 cache, models, checkpoints, run logs, results, charts). It lives in lib/data,
 * the lowest layer, so that all of them may import it.
 *
 * @module
 */

import { dirname } from "node:path";

/**
 * Writes `data` (bytes, or text as UTF-8) to `path` atomically: a temporary file beside it,
 * fsync, then a rename over `path`, so readers and a crash at any instant see the old file or
 * the new one, never half of one. Creates missing directories. The temporary name is unique
 * per process and call, so concurrent writers of one path never write into each other's file;
 * the last rename wins. A failed write removes its temporary file and rethrows.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      let at = 0;
      while (at < bytes.length) at += await file.write(bytes.subarray(at));
      // Without it a crash after the rename could leave the new name pointing at empty blocks.
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
