import assert from "node:assert/strict";
import { REPO_ROOT } from "../lib/data/locate.ts";
import { findPython } from "./render.ts";

/** Runs a Python script with the executor importable; returns its stdout and stderr. */
async function python(script: string, stdin = ""): Promise<{ stdout: string; stderr: string }> {
  const child = new Deno.Command(await findPython(), {
    args: ["-c", `import sys\nsys.path.insert(0, ${JSON.stringify(`${REPO_ROOT}/tools`)})\n${script}`],
    env: { PYTHONDONTWRITEBYTECODE: "1" }, // no tools/__pycache__ in the work tree
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  const [stdout, stderr] = [out.stdout, out.stderr].map((b) => new TextDecoder().decode(b));
  assert.ok(out.success, stderr);
  return { stdout, stderr };
}

/**
 * Feeds iopub messages (as the Deno kernel sends them) to the executor's OutputRouter and
 * returns the resulting outputs of each cell.
 */
async function route(cells: number, messages: unknown[]): Promise<unknown[][]> {
  const { stdout } = await python(
    `
import json
import nbformat
from execute_notebook import OutputRouter
router = OutputRouter()
cells = [nbformat.v4.new_code_cell("") for _ in range(${cells})]
for i, cell in enumerate(cells):
    router.track(f"exec-{i}", cell)
for msg in json.load(sys.stdin):
    router.route(msg)
print(json.dumps([[dict(o) for o in c.outputs] for c in cells]))
`,
    JSON.stringify(messages),
  );
  return JSON.parse(stdout);
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

/** Python fakes of the kernel's client and manager that record what the executor asks. */
const FAKE_KERNEL = `
import execute_notebook as ex
calls = []
class FakeClient:
    def __init__(self, fail_stop=False): self.fail_stop = fail_stop
    def get_iopub_msg(self, timeout): raise ValueError("Invalid Signature: b'00'")
    def stop_channels(self):
        calls.append("stop_channels")
        if self.fail_stop: raise RuntimeError("stop failed")
class FakeManager:
    def is_alive(self): return True
    def shutdown_kernel(self, now): calls.append(f"shutdown(now={now})")
`;

Deno.test("executor: a malformed late message is raised only after the kernel was shut down", async () => {
  const { stdout } = await python(`${FAKE_KERNEL}
for fail_stop in (False, True):
    e = ex.Executor("deno", ".", 10, 0.01)
    e.kc, e.km = FakeClient(fail_stop), FakeManager()
    try:
        e.close()
        calls.append("no error")
    except ex.MalformedMessage as err:
        calls.append("malformed: " + str(err))
print("\\n".join(calls))
`);
  assert.deepEqual(stdout.trim().split("\n"), [
    "stop_channels",
    "shutdown(now=False)",
    "malformed: the kernel sent a malformed message (Invalid Signature: b'00')",
    "stop_channels", // stopping the channels failed: the kernel is killed instead
    "shutdown(now=True)",
    "malformed: the kernel sent a malformed message (Invalid Signature: b'00')",
  ]);
});

Deno.test("executor: a run with a malformed message is repeated; cell errors and other failures are not", async () => {
  const { stdout, stderr } = await python(`${FAKE_KERNEL}
def scripted(outcomes):
    """An executor factory whose n-th executor raises outcomes[n] (None: succeeds)."""
    runs = iter(outcomes)
    class Scripted:
        def execute(self, nb):
            nb.append("ran")
            error = next(runs)
            if error: raise error
    return Scripted
malformed = lambda: ex.MalformedMessage("garbled")
for outcomes in ([malformed(), None], [malformed()] * 3, [ex.CellError(0, "x", "E", "v", [])],
                 [ex.KernelFailure("died")]):
    notebooks = []
    def read():
        notebooks.append([])
        return notebooks[-1]
    try:
        nb = ex.execute_with_retries(read, scripted(outcomes))
        result = "ok"
    except ex.KernelFailure as e:
        nb, result = e.notebook, type(e).__name__
    except ex.CellError as e:
        nb, result = e.notebook, "CellError"
    print(result, len(notebooks), nb is notebooks[-1] and nb == ["ran"])
`);
  assert.deepEqual(stdout.trim().split("\n"), [
    "ok 2 True", // a fresh notebook for the second run, which is the one returned
    "MalformedMessage 3 True",
    "CellError 1 True",
    "KernelFailure 1 True",
  ]);
  assert.equal(stderr.match(/warning: garbled; running the notebook again/g)?.length, 3);
});
