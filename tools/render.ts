/**
 * `deno task render [--profile NAME] [NOTEBOOK ...]`: executes the notebooks in notebooks/
 * headlessly on the Deno kernel and writes each executed notebook and its HTML to
 * notebooks/rendered/ (build output, ignored by git; the HTML is self-contained and meant for
 * sharing). Notebooks show the results of the given profile (default quick), which they read
 * from results/ (`deno task reproduce --profile NAME` writes them, then renders at that profile).
 *
 * Execution goes through tools/execute_notebook.py (jupyter_client from Debian's python3),
 * because stock nbconvert loses outputs the Deno kernel sends after reporting a cell idle. The
 * kernel is the project's kernelspec (lib/report/jupyter.ts JUPYTER_DIR), so nothing is
 * installed in the user's home.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../lib/data/locate.ts";
import {
  parseProfile,
  PROFILE_DESCRIPTIONS,
  PROFILE_NAMES,
  type ProfileName,
} from "../lib/experiments/profiles.ts";
import { PLOTLY_JS_PATH } from "../lib/report/chart.ts";
import { JUPYTER_DIR, PROFILE_ENV } from "../lib/report/jupyter.ts";

/** Where rendered notebooks go. */
const RENDER_DIR = join(REPO_ROOT, "notebooks", "rendered");

const EXECUTOR = join(REPO_ROOT, "tools", "execute_notebook.py");

/** The Debian packages tools/setup.sh installs: the one list, read rather than repeated here. */
const APT_PACKAGES = join(REPO_ROOT, "tools", "ci_apt_packages.txt");

/**
 * The Debian packages that provide what the executor imports: the Jupyter and python3 ones of
 * {@link APT_PACKAGES} but the notebook front end (`deno task lab`'s), sorted.
 */
async function jupyterPackages(): Promise<string[]> {
  return (await Deno.readTextFile(APT_PACKAGES)).split("\n").map((line) => line.trim())
    .filter((name) => /^(jupyter|python3)-/.test(name) && name !== "jupyter-notebook").sort();
}

/**
 * A Python 3 that can import jupyter_client, nbformat and nbconvert: `$SAFENET_PYTHON`, else
 * Debian's /usr/bin/python3 (a pyenv or venv python3 earlier on PATH usually lacks them), else
 * `python3`. Throws naming the Debian packages to install.
 */
export async function findPython(): Promise<string> {
  const override = Deno.env.get("SAFENET_PYTHON");
  const candidates = override ? [override] : ["/usr/bin/python3", "python3"];
  for (const python of candidates) {
    try {
      const probe = await new Deno.Command(python, {
        args: ["-c", "import jupyter_client, nbformat, nbconvert"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (probe.success) return python;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Error(
    `no Python with jupyter_client, nbformat and nbconvert (tried ${candidates.join(", ")}): ` +
      `install them with \`apt-get install ${(await jupyterPackages()).join(" ")}\`, or set $SAFENET_PYTHON`,
  );
}

/** Options for {@link renderNotebook}. */
export interface RenderOptions {
  /** Output directory; default notebooks/rendered/. */
  readonly outDir?: string;
  /** Seconds a single cell may run; default 900. */
  readonly cellTimeoutS?: number;
  /** The profile whose results the notebook shows; default quick. */
  readonly profile?: ProfileName;
}

/** Files written for one notebook. */
export interface Rendered {
  readonly ipynb: string;
  readonly html: string;
  readonly seconds: number;
}

/**
 * Executes one notebook (kernel working directory: the notebook's own directory) and writes
 * `<outDir>/<stem>.ipynb` and `<stem>.html`. Throws if a cell fails, with the executor's report
 * (cell source and traceback); the executed notebook is still written for inspection.
 */
export async function renderNotebook(notebook: string, options: RenderOptions = {}): Promise<Rendered> {
  const python = await findPython();
  const outDir = options.outDir ?? RENDER_DIR;
  await Deno.mkdir(outDir, { recursive: true });
  const stem = basename(notebook).replace(/\.ipynb$/, "");
  const ipynb = join(outDir, `${stem}.ipynb`);
  const html = join(outDir, `${stem}.html`);
  const scratch = await Deno.makeTempDir({ prefix: "safenet-jupyter-" });
  try {
    const started = performance.now();
    const out = await new Deno.Command(python, {
      args: [
        EXECUTOR,
        notebook,
        ipynb,
        "--html",
        html,
        "--plotly-js",
        PLOTLY_JS_PATH,
        "--cwd",
        dirname(resolve(notebook)),
        "--timeout",
        String(options.cellTimeoutS ?? 900),
      ],
      env: {
        JUPYTER_PATH: JUPYTER_DIR,
        JUPYTER_RUNTIME_DIR: join(scratch, "runtime"),
        // An empty config dir keeps the user's Jupyter settings out of the render.
        JUPYTER_CONFIG_DIR: join(scratch, "config"),
        [PROFILE_ENV]: options.profile ?? "quick",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - started) / 1000;
    if (!out.success) {
      const stderr = new TextDecoder().decode(out.stderr)
        // The kernel's start-up banner is noise next to the real report.
        .split("\n").filter((line) => !line.includes('"deno jupyter" is unstable')).join("\n");
      throw new Error(`rendering ${notebook} failed (exit ${out.code}):\n${stderr.trim()}`);
    }
    return { ipynb, html, seconds };
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

/** The notebooks under `dir` (not its rendered/ output), sorted by name. */
export async function listNotebooks(dir: string = join(REPO_ROOT, "notebooks")): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ipynb")) found.push(join(dir, entry.name));
  }
  return found.sort();
}

const USAGE = `usage: deno task render [--profile NAME] [NOTEBOOK.ipynb ...]

Executes the notebooks (default: every notebook in notebooks/) on the Deno kernel and writes
the executed notebooks and their HTML to notebooks/rendered/. Notebooks show the results of
--profile (default quick), read from results/.

profiles:
${PROFILE_NAMES.map((p) => `  ${p.padEnd(6)} ${PROFILE_DESCRIPTIONS[p]}`).join("\n")}`;

/** Runs the command; returns the exit status (0 ok, 1 a notebook failed, 2 bad command line). */
export async function main(argv: string[]): Promise<number> {
  let notebooks: string[], profile: ProfileName;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { profile: { type: "string", default: "quick" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    profile = parseProfile(values.profile!);
    notebooks = positionals.length ? positionals.map((a) => resolve(a)) : await listNotebooks();
  } catch (e) {
    console.error(`render: ${e instanceof Error ? e.message : e}\n\n${USAGE}`);
    return 2;
  }
  let failed = 0;
  for (const notebook of notebooks) {
    try {
      const r = await renderNotebook(notebook, { profile });
      console.log(
        `rendered ${basename(notebook)} (profile ${profile}) in ${r.seconds.toFixed(1)} s -> ${r.html}`,
      );
    } catch (e) {
      failed++;
      console.error(e instanceof Error ? e.message : e);
    }
  }
  if (failed) console.error(`${failed} of ${notebooks.length} notebook(s) failed to render`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
