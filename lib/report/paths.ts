/**
 * Where the lab's outputs live, under the repository root (resolved from lib/data's location),
 * so that code run from `notebooks/` (the kernel's working directory) and from the repository
 * root writes to the same place.
 *
 * @module
 */
import { REPO_ROOT } from "../data/locate.ts";

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
