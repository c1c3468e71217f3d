import assert from "node:assert/strict";
import { REPO_ROOT } from "../lib/report/paths.ts";
import { findPython } from "./render.ts";

/**
 * Feeds iopub messages (as the Deno kernel sends them) to the executor's OutputRouter and
 * returns the resulting outputs of each cell.
 */
async function route(cells: number, messages: unknown[]): Promise<unknown[][]> {
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(`${REPO_ROOT}/tools`)})
import nbformat
from execute_notebook import OutputRouter
router = OutputRouter()
cells = [nbformat.v4.new_code_cell("") for _ in range(${cells})]
for i, cell in enumerate(cells):
    router.track(f"exec-{i}", cell)
for msg in json.load(sys.stdin):
    router.route(msg)
print(json.dumps([[dict(o) for o in c.outputs] for c in cells]))
`;
  const child = new Deno.Command(await findPython(), {
    args: ["-c", script],
    env: { PYTHONDONTWRITEBYTECODE: "1" }, // no tools/__pycache__ in the work tree
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(messages)));
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function msg(parent: string, type: string, content: Record<string, unknown>) {
  return { header: { msg_type: type }, parent_header: { msg_id: parent }, content };
}
const idle = (parent: string) => msg(parent, "status", { execution_state: "idle" });
const display = (parent: string, text: string, transient: unknown) =>
  msg(parent, "display_data", { data: { "text/plain": text }, metadata: {}, transient });

Deno.test("executor: null transient is accepted and output after idle lands in its own cell", async () => {
  const outputs = await route(2, [
    idle("exec-0"),
    msg("exec-1", "stream", { name: "stdout", text: "cell 1\n" }),
    display("exec-0", "late for cell 0", null), // after cell 0's idle, while cell 1 runs
    idle("exec-1"),
  ]);
  assert.deepEqual(outputs[0], [{
    output_type: "display_data",
    data: { "text/plain": "late for cell 0" },
    metadata: {},
  }]);
  assert.deepEqual(outputs[1], [{ output_type: "stream", name: "stdout", text: "cell 1\n" }]);
});

Deno.test("executor: consecutive stream writes merge; update_display_data replaces by display id", async () => {
  const outputs = await route(2, [
    msg("exec-0", "stream", { name: "stdout", text: "a" }),
    msg("exec-0", "stream", { name: "stdout", text: "b\n" }),
    msg("exec-0", "stream", { name: "stderr", text: "warn\n" }),
    display("exec-0", "progress 0%", { display_id: "bar" }),
    msg("exec-1", "update_display_data", {
      data: { "text/plain": "progress 100%" },
      metadata: {},
      transient: { display_id: "bar" },
    }),
    msg("exec-9", "stream", { name: "stdout", text: "unknown parent: ignored" }),
  ]);
  assert.deepEqual(outputs[0].map((o) => (o as { text?: string }).text ?? (o as { data: unknown }).data), [
    "ab\n",
    "warn\n",
    { "text/plain": "progress 100%" },
  ]);
  assert.deepEqual(outputs[1], []);
});

Deno.test("executor: clear_output(wait) clears at the next output", async () => {
  const outputs = await route(1, [
    display("exec-0", "first", {}),
    msg("exec-0", "clear_output", { wait: true }),
    display("exec-0", "second", {}),
  ]);
  assert.deepEqual(outputs[0].map((o) => (o as { data: Record<string, string> }).data["text/plain"]), [
    "second",
  ]);
});
