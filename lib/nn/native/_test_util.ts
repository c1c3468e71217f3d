/** Test helper for the native kernels' fallbacks. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/**
 * Runs the tests of `testFile` (a URL) whose names contain `filter` in a fresh process with
 * SAFENET_NATIVE=0, so that they exercise the fallback kernels, and asserts that `passes` pass.
 */
export async function passesWithoutNative(testFile: URL, filter: string, passes: number): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--filter", filter, fileURLToPath(testFile)],
    env: { SAFENET_NATIVE: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
  assert.match(text, new RegExp(`${passes} passed`));
}
