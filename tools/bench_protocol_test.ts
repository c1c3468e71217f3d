import assert from "node:assert/strict";
import { TrafficMeter } from "../lib/mpc/transport.ts";
import { summarizeRuns } from "./bench_protocol.ts";
import { DenoProcess } from "./testdata/process.ts";

/** Channel statistics of a scripted run: offline then online time and bytes per section. */
function scripted(scale: number) {
  let now = 0;
  const meters = {
    client: new TrafficMeter("offline", () => now),
    server: new TrafficMeter("offline", () => now),
  };
  const step = (section: string, ms: number, bytes: number) => {
    for (const m of Object.values(meters)) m.setSection(section);
    meters.client.recordSent(bytes);
    meters.server.recordReceived(bytes);
    now += ms * scale;
  };
  step("conv1", 200, 1000);
  step("act1", 1000, 50000);
  for (const m of Object.values(meters)) m.setPhase("online");
  step("conv1", 10, 0);
  step("act1", 300, 4000);
  return { client: meters.client.snapshot(), server: meters.server.snapshot() };
}

Deno.test("summarizeRuns: medians of the client's phases, per-layer offline and online times and bytes", () => {
  const summary = summarizeRuns([scripted(1), scripted(3), scripted(2)]);
  assert.equal(summary.offline_s, 2.4);
  assert.equal(summary.online_s, 0.62);
  assert.equal(summary.total_s, 3.02);
  assert.equal(summary.bytes, 55000);
  assert.equal(summary.offline_bytes, 51000);
  assert.deepEqual(summary.layers.conv1, {
    offline_s: 0.4,
    online_s: 0.02,
    offline_bytes: 1000,
    online_bytes: 0,
  });
  assert.deepEqual(summary.layers.act1, {
    offline_s: 2,
    online_s: 0.6,
    offline_bytes: 50000,
    online_bytes: 4000,
  });
  assert.deepEqual(summary.runs_total_s, [1.51, 4.53, 3.02]);
});

Deno.test("bench:protocol --agreement-only: one plan on request, written with provenance; an unknown plan is an error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "safenet-agreement-test-" });
  try {
    const out = `${dir}/agreement.json`;
    const run = new DenoProcess("tools/bench_protocol.ts", [
      ...["--agreement-only", "--weights", "random:1", "--plan", "all_relu"],
      ...["--accuracy", "3", "--secure-images", "1", "--out", out],
    ]);
    assert.equal(await run.exitCode(300_000), 0, run.output);
    const file = JSON.parse(await Deno.readTextFile(out));
    assert.deepEqual(Object.keys(file.agreement), ["all_relu"]);
    const a = file.agreement.all_relu;
    assert.equal(a.images, 3);
    assert.equal(a.secure_images, 1);
    // Random weights, but the secure protocol still equals its fixed-point reference exactly.
    assert.equal(a.secure_bit_exact, 1);
    assert.equal(a.secure_max_logit_diff_vs_reference, 0);
    assert.equal(a.max_poly_activation, 0, "no polynomial neurons");
    assert.ok(file.commit && file.machine, "provenance recorded");
    assert.equal(file.meta.dataset, "cifar10");

    const bad = new DenoProcess("tools/bench_protocol.ts", ["--agreement-only", "--plan", "plan99"]);
    assert.notEqual(await bad.exitCode(120_000), 0);
    assert.match(bad.output, /unknown --plan plan99; use one of all_relu, plan80/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
