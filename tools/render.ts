/**
 * `deno task render [NOTEBOOK ...]`: executes the notebooks in notebooks/ headlessly on the Deno
 * kernel and writes each executed notebook and its HTML to notebooks/rendered/ (build output,
 * ignored by git; the HTML is self-contained and meant for sharing).
 *
 * Execution goes through tools/execute_notebook.py (jupyter_client from Debian's python3),
 * because stock nbconvert loses outputs the Deno kernel sends after reporting a cell idle. The
 * kernelspec is generated per run in a temporary JUPYTER_PATH, pointing at this checkout's
 * Deno, so nothing is installed in the user's home.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { REPO_ROOT } from "../lib/data/locate.ts";

/** Where rendered notebooks go. */
const RENDER_DIR = join(REPO_ROOT, "notebooks", "rendered");

const EXECUTOR = join(REPO_ROOT, "tools", "execute_notebook.py");

/** The Debian packages tools/setup.sh installs: the one list, read rather than repeated here. */
const APT_PACKAGES = join(REPO_ROOT, "tools", "ci_apt_packages.txt");

/**
 * The Debian packages that provide what the executor imports: the Jupyter and python3 ones of
 * {@link APT_PACKAGES}, sorted.
 */
async function jupyterPackages(): Promise<string[]> {
  return (await Deno.readTextFile(APT_PACKAGES)).split("\n").map((line) => line.trim())
    .filter((name) => /^(jupyter|python3)-/.test(name)).sort();
}

/** The Deno binary the kernel runs: this checkout's npm-installed one, else the running one. */
function denoBinary(): string {
  const local = join(REPO_ROOT, "node_modules", "deno", "deno");
  try {
    if (Deno.statSync(local).isFile) return local;
  } catch {
    // not installed by npm here; fall through
  }
  return Deno.execPath();
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

/**
 * Writes a Jupyter data directory holding one kernelspec, "deno", that runs `deno` as the
 * kernel; returns the directory, for JUPYTER_PATH.
 */
async function writeKernelspec(dir: string, deno: string = denoBinary()): Promise<string> {
  const spec = {
    argv: [deno, "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno",
    language: "typescript",
  };
  await Deno.mkdir(join(dir, "kernels", "deno"), { recursive: true });
  await Deno.writeTextFile(join(dir, "kernels", "deno", "kernel.json"), JSON.stringify(spec, null, 2));
  return dir;
}

/** Options for {@link renderNotebook}. */
export interface RenderOptions {
  /** Output directory; default notebooks/rendered/. */
  readonly outDir?: string;
  /** Seconds a single cell may run; default 900. */
  readonly cellTimeoutS?: number;
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
  const jupyterDir = await Deno.makeTempDir({ prefix: "safenet-jupyter-" });
  try {
    await writeKernelspec(jupyterDir);
    const started = performance.now();
    const out = await new Deno.Command(python, {
      args: [
        EXECUTOR,
        notebook,
        ipynb,
        "--html",
        html,
        "--cwd",
        dirname(resolve(notebook)),
        "--timeout",
        String(options.cellTimeoutS ?? 900),
      ],
      env: {
        JUPYTER_PATH: jupyterDir,
        JUPYTER_RUNTIME_DIR: join(jupyterDir, "runtime"),
        // An empty config dir keeps the user's Jupyter settings out of the render.
        JUPYTER_CONFIG_DIR: join(jupyterDir, "config"),
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
    await Deno.remove(jupyterDir, { recursive: true });
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

async function main(args: string[]): Promise<number> {
  const notebooks = args.length ? args.map((a) => resolve(a)) : await listNotebooks();
  let failed = 0;
  for (const notebook of notebooks) {
    try {
      const r = await renderNotebook(notebook);
      console.log(`rendered ${basename(notebook)} in ${r.seconds.toFixed(1)} s -> ${r.html}`);
    } catch (e) {
      failed++;
      console.error(e instanceof Error ? e.message : e);
    }
  }
  if (failed) console.error(`${failed} of ${notebooks.length} notebook(s) failed to render`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
