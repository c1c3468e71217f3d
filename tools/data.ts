/**
 * `deno task data <cifar10|cifar100>...`: checks that a verified copy of each data set is
 * present, and otherwise downloads the official archive, checks its published md5 and installs
 * it into `$SAFENET_DATA_DIR` or `<repo>/data/`.
 *
 * Options: `--archive <file.tar.gz>` installs from a local copy of the official archive (no
 * network); `--force` reinstalls; `--timeout <seconds>` sets the connect timeout (default 5).
 * The archive URL can be overridden with `SAFENET_CIFAR10_URL` / `SAFENET_CIFAR100_URL`.
 *
 * @module
 */

import {
  DataError,
  datasetSpec,
  defaultDataRoot,
  type Ensured,
  ensureDataset,
  isDatasetName,
} from "../lib/data/mod.ts";

const USAGE =
  `usage: deno task data <cifar10|cifar100>... [--archive <file.tar.gz>] [--force] [--timeout <seconds>]`;

/** Parsed command line; `help` asks for the usage only. */
interface Args {
  help?: boolean;
  datasets: ("cifar10" | "cifar100")[];
  archivePath?: string;
  force: boolean;
  connectTimeoutMs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { datasets: [], force: false, connectTimeoutMs: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new DataError("usage", `${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--archive") args.archivePath = value();
    else if (a === "--force") args.force = true;
    else if (a === "--timeout") {
      const s = Number(value());
      if (!(s > 0)) throw new DataError("usage", `--timeout must be a positive number of seconds\n${USAGE}`);
      args.connectTimeoutMs = s * 1000;
    } else if (a === "--help" || a === "-h") return { ...args, help: true };
    else if (isDatasetName(a)) args.datasets.push(a);
    else throw new DataError("usage", `unknown argument '${a}'\n${USAGE}`);
  }
  if (args.datasets.length === 0) throw new DataError("usage", `name a data set\n${USAGE}`);
  if (args.archivePath && args.datasets.length > 1) {
    throw new DataError("usage", `--archive installs one data set; name exactly one\n${USAGE}`);
  }
  return args;
}

/** A progress reporter: a rewritten line on a terminal, a line per 10% otherwise. */
function progress(name: string): (received: number, total: number | null) => void {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const start = performance.now();
  let lastStep = -1;
  return (received, total) => {
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const rate = received / 1e6 / Math.max(1e-3, (performance.now() - start) / 1000);
    const pct = total ? Math.floor((received / total) * 100) : null;
    const line = `${name}: ${mb(received)}${total ? ` / ${mb(total)}` : ""} MB` +
      `${pct === null ? "" : ` (${pct}%)`}  ${rate.toFixed(1)} MB/s`;
    if (tty) {
      Deno.stderr.writeSync(encoder.encode(`\r${line}${received === total ? "\n" : ""}`));
    } else {
      const step = pct === null ? Math.floor(received / 20e6) : Math.floor(pct / 10);
      if (step !== lastStep) console.error(line);
      lastStep = step;
    }
  };
}

function describe(name: string, result: Ensured): string {
  const spec = datasetSpec(name as "cifar10" | "cifar100");
  const how = result.checks.every((c) => c.method === "manifest")
    ? "sha256 of every file matches data/datasets.json"
    : result.checks.every((c) => c.method === "download-stamp")
    ? "sha256 of every file matches the stamp written when the archive's published md5 was checked"
    : "no sha256 known for these files: size and label layout checked only";
  const variant = result.variant ? `variant ${result.variant}: ${spec.variants[result.variant] ?? ""}` : "";
  const verb = result.status === "present" ? "present and valid" : "installed and valid";
  const upgrade = result.variant === "official"
    ? ""
    : `\n  \`deno task data ${name} --force\` downloads the official files into ` +
      `${defaultDataRoot()}, which is searched before the shared copy.`;
  return `${name}: ${verb} in ${result.found.dir}\n  ${how}${variant ? `\n  ${variant}` : ""}${upgrade}`;
}

/** Runs the command; returns the exit status (0 ok, 1 failure, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  let status = 0;
  for (const name of args.datasets) {
    try {
      const result = await ensureDataset(name, {
        archivePath: args.archivePath,
        force: args.force,
        connectTimeoutMs: args.connectTimeoutMs,
        onProgress: progress(name),
        log: (line) => console.error(line),
      });
      console.log(describe(name, result));
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      console.error(`${name}: ${e.message}`);
      status = 1;
    }
  }
  return status;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
