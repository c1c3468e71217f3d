import assert from "node:assert/strict";
import { DenoProcess } from "./testdata/process.ts";

Deno.test("bench:protocol --agreement-only: one plan on request, a published one by its name, written with provenance; an unknown plan is an error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "safenet-agreement-test-" });
  try {
    const out = `${dir}/agreement.json`;
    const run = new DenoProcess("tools/bench_protocol.ts", [
      ...["--agreement-only", "--plan", "all_relu"],
      ...["--accuracy", "3", "--secure-images", "1", "--out", out],
    ]);
    assert.equal(await run.exitCode(300_000), 0, run.output);
    const file = JSON.parse(await Deno.readTextFile(out));
    assert.deepEqual(Object.keys(file.agreement), ["all_relu"]);
    const a = file.agreement.all_relu;
    assert.equal(a.images, 3);
    assert.equal(a.secure_images, 1);
    // All ReLU: the secure protocol equals its fixed-point reference exactly.
    assert.equal(a.secure_bit_exact, 1);
    assert.equal(a.secure_max_logit_diff_vs_reference, 0);
    assert.equal(a.max_poly_activation, 0, "no polynomial neurons");
    assert.ok(file.commit && file.machine, "provenance recorded");
    assert.equal(file.meta.dataset, "cifar10");

    // SAFENet's published plan runs on the weights its search trained: one secure image agrees with plaintext.
    const safenetOut = `${dir}/safenet.json`;
    const safenet = new DenoProcess("tools/bench_protocol.ts", [
      ...["--agreement-only", "--plan", "safenet"],
      ...["--accuracy", "3", "--secure-images", "1", "--out", safenetOut],
    ]);
    assert.equal(await safenet.exitCode(300_000), 0, safenet.output);
    const s = JSON.parse(await Deno.readTextFile(safenetOut));
    assert.equal(s.published.safenet.weights, "data/pretrained/cnn7-safenet");
    assert.equal(s.agreement.safenet.secure_same_class_as_float, 1);
    assert.ok(s.agreement.safenet.max_poly_activation > 0, "the plan's polynomials ran");

    const bad = new DenoProcess("tools/bench_protocol.ts", ["--agreement-only", "--plan", "plan99"]);
    assert.notEqual(await bad.exitCode(120_000), 0);
    assert.match(bad.output, /no plan 'plan99' for cnn7: use all_relu, plan80, or a plan a search published/);
    const help = new DenoProcess("tools/bench_protocol.ts", ["--help"]);
    assert.equal(await help.exitCode(60_000), 0);
    assert.match(help.output, /usage: deno task bench:protocol/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
