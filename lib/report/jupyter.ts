/**
 * Notebook display for the Deno Jupyter kernel, usable from code that also runs in a terminal.
 *
 * `Deno.jupyter` exists only inside `deno jupyter`; elsewhere touching it throws, so every
 * reporting helper asks {@link inNotebook} first and falls back to terminal output.
 *
 * The kernel shows a cell's last value through its `Symbol.for("Jupyter.display")` method when
 * it has one ({@link JUPYTER_DISPLAY}); the show functions use it so that a forgotten `await`
 * neither prints `Promise { undefined }` nor loses the output (see {@link Shown}).
 *
 * @module
 */
import { REPO_ROOT } from "../data/locate.ts";

/** A Jupyter MIME bundle: MIME type to payload (strings, or JSON for `application/*+json`). */
export type MimeBundle = Record<string, unknown>;

/** The method the Deno kernel calls (and awaits) to show a cell's last value as a MIME bundle. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/**
 * What show functions return: a promise that settles once the output has been sent. The output
 * is sent when the function is called, awaited or not. Left un-awaited as a cell's last value,
 * the kernel asks the promise to display itself: it waits for the output (so a failure is the
 * cell's error) and adds nothing, instead of printing `Promise { undefined }`.
 */
export type Shown = Promise<void> & { [JUPYTER_DISPLAY](): Promise<MimeBundle> };

/** Wraps the promise of a display as a {@link Shown}. */
export function shown(done: Promise<void>): Shown {
  return Object.assign(done, {
    async [JUPYTER_DISPLAY](): Promise<MimeBundle> {
      await done;
      // An empty bundle, not undefined: the kernel sends undefined as a result without data.
      return {};
    },
  });
}

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
export function displayBundle(bundle: MimeBundle): Shown {
  if (!inNotebook()) {
    throw new Error("displayBundle: not running in the Deno Jupyter kernel; print a text form instead");
  }
  // Called now, not at the first await of the caller: outputs keep the order of the calls.
  return shown(Deno.jupyter.display(bundle, { raw: true }));
}

/**
 * Shows `bundle` in a notebook, or prints `text` elsewhere; either way returns a {@link Shown}.
 * The building block of every show function.
 */
export function show(bundle: MimeBundle, text: string): Shown {
  if (inNotebook()) return displayBundle(bundle);
  console.log(text);
  return shown(Promise.resolve());
}

/** Shows a paragraph of Markdown (a notebook's generated reading of its result); prints it elsewhere. */
export function showMarkdown(markdown: string): Shown {
  return show({ "text/markdown": markdown, "text/plain": markdown }, markdown);
}

/**
 * The project's Jupyter data directory, put on `JUPYTER_PATH` by `deno task lab` and `render`:
 * it holds the "deno" kernelspec, which runs this checkout's tools/deno (a path relative to the
 * kernelspec, so nothing points into a user's home).
 */
export const JUPYTER_DIR = `${REPO_ROOT}/tools/jupyter`;

/** The environment variable that tells notebooks which profile's results to show. */
export const PROFILE_ENV = "SAFENET_PROFILE";
