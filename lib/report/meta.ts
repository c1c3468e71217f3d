/**
 * Provenance of a result: which configuration, code version and machine produced it.
 *
 * @module
 */
import { REPO_ROOT } from "../data/locate.ts";

/** The machine a result was computed on. */
export interface MachineInfo {
  /** CPU model name from /proc/cpuinfo ("unknown" where unavailable). */
  readonly cpu: string;
  /** Logical cores visible to the process. */
  readonly cores: number;
  /** Operating system, e.g. "linux 6.1.0 (Debian GNU/Linux 12 (bookworm))". */
  readonly os: string;
  /** Deno version, e.g. "2.9.5". */
  readonly deno: string;
}

/** What the caller knows about a run: its profile, seed and dataset. */
export interface RunInfo {
  /** Named size of the run (e.g. "smoke", "paper"); experiments define their profiles. */
  readonly profile: string;
  readonly seed: number;
  /** Dataset name, or null when the result does not depend on data. */
  readonly dataset?: string | null;
}

/** The `meta` block of every result file. */
export interface ResultMeta {
  readonly profile: string;
  readonly seed: number;
  readonly dataset: string | null;
  /** `git rev-parse HEAD`, with "-dirty" if the working tree differs from it; "unknown" outside git. */
  readonly commit: string;
  readonly machine: MachineInfo;
  /** ISO 8601 time the meta block was made. */
  readonly timestamp: string;
}

async function git(args: string[], cwd: string): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null; // git not installed
    throw e;
  }
}

/**
 * The checked-out commit of `cwd` (the repository by default), with "-dirty" when the working
 * tree differs from it: modified tracked files, or untracked files git does not ignore (new
 * modules count, since the result may depend on them). Generated outputs (results/, figures/,
 * notebooks/rendered/) are left out: otherwise writing one result would mark every later result
 * of the same run dirty.
 */
export async function gitCommit(cwd: string = REPO_ROOT): Promise<string> {
  const head = await git(["rev-parse", "HEAD"], cwd);
  if (head === null) return "unknown";
  const status = await git(
    ["status", "--porcelain", "--", ".", ":!results", ":!figures", ":!notebooks/rendered"],
    cwd,
  );
  return status === "" ? head : `${head}-dirty`;
}

function readOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/** CPU model, cores, OS and Deno version of this machine. */
export function machineInfo(): MachineInfo {
  const cpu = readOrNull("/proc/cpuinfo")?.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? "unknown";
  const distro = readOrNull("/etc/os-release")?.match(/^PRETTY_NAME="?([^"\n]*)"?$/m)?.[1];
  const os = `${Deno.build.os} ${Deno.osRelease()}${distro ? ` (${distro})` : ""}`;
  return { cpu, cores: navigator.hardwareConcurrency, os, deno: Deno.version.deno };
}

/** The meta block for a result of the run described by `run`, stamped now. */
export async function resultMeta(run: RunInfo): Promise<ResultMeta> {
  return {
    profile: run.profile,
    seed: run.seed,
    dataset: run.dataset ?? null,
    commit: await gitCommit(),
    machine: machineInfo(),
    timestamp: new Date().toISOString(),
  };
}
