/**
 * Every task of deno.json answers `--help` with its usage and exit 0, and acts on nothing: no
 * result, figure, notebook, data or README file changes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../lib/data/locate.ts";

/** Where a task could write: results, figures, notebooks, data, the README. */
const WATCHED = ["results", "figures", "notebooks", "data", "README.md"];

/** Size and modification time of every file under the watched paths. */
async function snapshot(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const visit = async (path: string) => {
    const info = await Deno.lstat(path);
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(path)) await visit(join(path, entry.name));
    } else {
      files.set(path.slice(REPO_ROOT.length + 1), `${info.size} ${info.mtime?.getTime()}`);
    }
  };
  for (const path of WATCHED) await visit(join(REPO_ROOT, path));
  return files;
}

/** Runs `deno task <name> --help`. */
async function help(task: string): Promise<{ task: string; code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", task, "--help"],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const [stdout, stderr] = [out.stdout, out.stderr].map((b) => new TextDecoder().decode(b));
  return { task, code: out.code, stdout, stderr };
}

Deno.test("every task answers --help with its usage and exit 0, and changes no file", async () => {
  const tasks = Object.keys(JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json"))).tasks);
  assert.ok(tasks.includes("lab") && tasks.includes("reproduce"));
  const before = await snapshot();
  // Two at a time: each is a Deno process loading its modules.
  const results = [];
  for (let i = 0; i < tasks.length; i += 2) {
    results.push(...await Promise.all(tasks.slice(i, i + 2).map(help)));
  }
  for (const r of results) {
    assert.equal(r.code, 0, `deno task ${r.task} --help exited ${r.code}:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /usage/i, `deno task ${r.task} --help printed no usage:\n${r.stdout}${r.stderr}`);
  }
  const after = await snapshot();
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((f) =>
    before.get(f) !== after.get(f)
  );
  assert.deepEqual(changed, [], "files changed by --help");
});
