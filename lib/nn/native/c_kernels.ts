/**
 * The project's own C kernels (masked_activation.c, batch_norm.c, sgd.c, weighted_average.c):
 * elementwise and per-channel work that no library offers fused, compiled on first use and called
 * through Deno FFI on the tensors in place. The C loops vectorise where the JavaScript or tfjs-op
 * versions (their fallbacks) cannot.
 *
 * Each source is built with the system's C compiler (`cc -O3 -march=native`, so for this
 * machine) into ~/.cache/safenet/native/, named by a hash of the source and flags: a changed
 * source builds anew, and builders racing (two processes, or two workers of one) each compile to
 * a file of their own and rename a complete library into place.
 * `SAFENET_NATIVE=0` keeps the fallbacks; without a compiler (or without --allow-run /
 * --allow-ffi) they stay too, after a one-line notice.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const FLAGS = ["-O3", "-march=native", "-shared", "-fPIC"];

/** Builds `source` (a file next to this module) unless built before; returns the library's path. */
function build(source: string): string {
  const path = fileURLToPath(new URL(source, import.meta.url));
  const text = Deno.readTextFileSync(path);
  const hash = createHash("sha256").update(text).update(FLAGS.join(" ")).digest("hex").slice(0, 16);
  const dir = join(homedir(), ".cache", "safenet", "native");
  const library = join(dir, `${source.replace(/\.c$/, "")}-${hash}.so`);
  try {
    Deno.statSync(library);
    return library;
  } catch {
    // Not built yet.
  }
  Deno.mkdirSync(dir, { recursive: true });
  const partial = `${library}.${crypto.randomUUID()}.partial`;
  let result: Deno.CommandOutput;
  try {
    result = new Deno.Command("cc", { args: [...FLAGS, "-o", partial, path, "-lm"], stderr: "piped" })
      .outputSync();
  } catch (e) {
    throw new Error(`cannot run the C compiler cc (${(e as Error).message}); install gcc`);
  }
  if (!result.success) {
    throw new Error(`cc failed on ${path}: ${new TextDecoder().decode(result.stderr).trim().split("\n")[0]}`);
  }
  Deno.renameSync(partial, library);
  return library;
}

/**
 * The symbols of `source` (e.g. "batch_norm.c"), built and opened; null, after a one-line notice
 * naming `what` (unless SAFENET_NATIVE=0 asked for it), when they cannot be used. Call once per
 * thread and keep the result.
 */
export function openCKernels<S extends Deno.ForeignLibraryInterface>(
  source: string,
  symbols: S,
  what: string,
): Deno.DynamicLibrary<S>["symbols"] | null {
  try {
    if (Deno.env.get("SAFENET_NATIVE") === "0") return null;
    return Deno.dlopen(build(source), symbols).symbols;
  } catch (e) {
    console.error(
      `native ${what} off (${(e as Error).message.split("\n")[0]}); using the fallback kernels ` +
        `(install gcc, or set SAFENET_NATIVE=0 to silence this)`,
    );
    return null;
  }
}
