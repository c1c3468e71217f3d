import assert from "node:assert/strict";
import { REPO_ROOT } from "../../data/locate.ts";

// The client holds no model: it must start without TensorFlow.js (seconds of start-up, and a
// dependency a client machine should not need). Plans and counting are pure data too.
Deno.test("the client, plans and counting load no TensorFlow.js", async () => {
  const modules = [
    "./tools/client.ts",
    "./lib/mpc/inference/client.ts",
    "./lib/nn/plan.ts",
    "./lib/nn/approximation.ts",
  ];
  const script = `${modules.map((m) => `await import(${JSON.stringify(m)});`).join(" ")}
    console.log("_tfengine" in globalThis ? "tfjs loaded" : "no tfjs");`;
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", script], cwd: REPO_ROOT }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.equal(text, "no tfjs", new TextDecoder().decode(out.stderr));
});
