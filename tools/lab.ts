/**
 * `deno task lab [--port N]`: Jupyter Notebook (Debian's jupyter-notebook 6.4, installed by
 * tools/setup.sh) on notebooks/, with the project's Deno kernel, bound to 127.0.0.1. Prints the
 * URL to open, with its token, once the server answers; Ctrl-C (or SIGTERM) stops it and its
 * kernels.
 *
 * The kernel is the project-local kernelspec in tools/jupyter/ (put on JUPYTER_PATH here, so
 * nothing is installed in the user's home); charts load plotly.js from the server, which serves
 * node_modules' copy as a static file (lib/report/chart.ts).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../lib/data/locate.ts";
import { PLOTLY_JS_PATH } from "../lib/report/chart.ts";
import { JUPYTER_DIR } from "../lib/report/jupyter.ts";

const USAGE = `usage: deno task lab [--port N]

Starts Jupyter Notebook on notebooks/ with the project's Deno kernel ("Deno (SAFENet Lab)"),
listening on 127.0.0.1 only, and prints the URL to open (it carries the login token).
Ctrl-C stops the server and its kernels.

options:
  --port N   port to listen on (default 8888)
  --help     this text`;

/** Seconds the server may take to answer after it starts. */
const START_TIMEOUT_S = 60;

function fail(message: string, code = 1): never {
  console.error(`lab: ${message}`);
  Deno.exit(code);
}

/** Resolves once `url` answers 200, or rejects when `child` exits first or time runs out. */
async function waitUntilServing(url: string, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + START_TIMEOUT_S * 1000;
  while (!exited && Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    exited
      ? "Jupyter Notebook exited during start-up (its messages are above)"
      : `Jupyter Notebook did not answer within ${START_TIMEOUT_S} s`,
  );
}

async function main(argv: string[]): Promise<void> {
  let port: number;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { port: { type: "string", default: "8888" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      console.log(USAGE);
      return;
    }
    port = Number(values.port);
    if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
      throw new Error(`--port must be 1..65535, got '${values.port}'`);
    }
  } catch (e) {
    fail(`${(e as Error).message}\n\n${USAGE}`, 2);
  }
  const token = Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  const runtime = await Deno.makeTempDir({ prefix: "safenet-lab-" });
  const inherited = Deno.env.get("JUPYTER_PATH");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("jupyter-notebook", {
      args: [
        "--no-browser",
        "--ip=127.0.0.1",
        `--port=${port}`,
        "--port-retries=0",
        `--notebook-dir=${join(REPO_ROOT, "notebooks")}`,
        `--NotebookApp.token=${token}`,
        `--NotebookApp.extra_static_paths=${dirname(PLOTLY_JS_PATH)}`,
        "--MappingKernelManager.default_kernel_name=deno",
        // Containers and CI run as root, which Jupyter refuses without this.
        ...(Deno.uid() === 0 ? ["--allow-root"] : []),
      ],
      env: {
        JUPYTER_PATH: inherited ? `${JUPYTER_DIR}:${inherited}` : JUPYTER_DIR,
        JUPYTER_RUNTIME_DIR: runtime,
      },
      // Without a terminal on its stdin, Jupyter stops at the first Ctrl-C instead of asking.
      stdin: "null",
    }).spawn();
  } catch (e) {
    await Deno.remove(runtime, { recursive: true });
    if (e instanceof Deno.errors.NotFound) {
      fail("jupyter-notebook is not installed: run tools/setup.sh (it installs Debian's jupyter-notebook)");
    }
    throw e;
  }
  // Ctrl-C reaches Jupyter from the terminal too; SIGTERM stops it where no terminal does.
  const stop = () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, stop);
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntilServing(`${base}/api/status?token=${token}`, child);
    console.log(
      `lab: Jupyter Notebook on notebooks/ with the Deno kernel; open\n  ${base}/tree?token=${token}`,
    );
    console.log("lab: Ctrl-C stops it");
  } catch (e) {
    stop();
    await child.status;
    await Deno.remove(runtime, { recursive: true });
    fail((e as Error).message);
  }
  const status = await child.status;
  await Deno.remove(runtime, { recursive: true });
  // Stopped by a signal we passed on: a normal end.
  Deno.exit(status.success || status.signal === "SIGTERM" ? 0 : status.code || 1);
}

if (import.meta.main) await main(Deno.args);
