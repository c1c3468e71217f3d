import assert from "node:assert/strict";

async function run(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", new URL(script, import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}

Deno.test("eval: a directory without a model is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await run("./eval.ts", [dir]);
    assert.equal(r.code, 1);
    assert.match(r.text, /no trained model in .*: model\.json is missing\. Train one with `deno task train/);
  } finally {
    await Deno.remove(dir);
  }
});
