/**
 * Test helper: a fresh temporary directory for the duration of a callback.
 *
 * @module
 */

/** Runs `fn` with a new temporary directory (name starting with `prefix`), removed afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  prefix = "safenet-test-",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
