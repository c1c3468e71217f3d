/**
 * Notebook display for the Deno Jupyter kernel, usable from code that also runs in a terminal.
 *
 * `Deno.jupyter` exists only inside `deno jupyter`; elsewhere touching it throws, so every
 * reporting helper asks {@link inNotebook} first and falls back to terminal output.
 *
 * @module
 */

/** A Jupyter MIME bundle: MIME type to payload (strings, or JSON for `application/*+json`). */
export type MimeBundle = Record<string, unknown>;

/** True when running inside the Deno Jupyter kernel. */
export function inNotebook(): boolean {
  try {
    return typeof Deno.jupyter.display === "function";
  } catch {
    // Outside the kernel the `Deno.jupyter` getter throws rather than returning undefined.
    return false;
  }
}

/** Displays a MIME bundle as a cell output; throws outside the Deno Jupyter kernel. */
export async function displayBundle(bundle: MimeBundle): Promise<void> {
  if (!inNotebook()) {
    throw new Error("displayBundle: not running in the Deno Jupyter kernel; print a text form instead");
  }
  await Deno.jupyter.display(bundle, { raw: true });
}

/** Shows a paragraph of Markdown (a notebook's generated reading of its result); prints it elsewhere. */
export async function showMarkdown(markdown: string): Promise<void> {
  if (inNotebook()) await displayBundle({ "text/markdown": markdown, "text/plain": markdown });
  else console.log(markdown);
}
