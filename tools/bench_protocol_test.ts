import assert from "node:assert/strict";
import { TrafficMeter } from "../lib/mpc/transport.ts";
import { summarizeRuns } from "./bench_protocol.ts";

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
