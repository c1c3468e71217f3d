/**
 * Where the lab's outputs live, resolved from this file so that code run from `notebooks/`
 * (the kernel's working directory) and from the repository root writes to the same place.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** Absolute path of the repository root (no trailing slash). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** Default directory of machine-readable results. */
export const RESULTS_DIR = `${REPO_ROOT}/results`;

/** Default directory of charts (interactive HTML and static images). */
export const FIGURES_DIR = `${REPO_ROOT}/figures`;

/**
 * Checks that `name` is safe as a file stem (letters, digits, `_`, `-`, `.`), so a result
 * name can never escape its directory.
 */
export function checkName(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
    throw new Error(`invalid output name '${name}': use letters, digits, '_', '-' and '.' only`);
  }
  return name;
}

/** Writes text via a temporary file and a rename, so readers never see half a file. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}
