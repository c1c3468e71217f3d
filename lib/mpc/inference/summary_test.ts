import assert from "node:assert/strict";
import { TrafficMeter } from "../transport.ts";
import type { Graph } from "../../nn/graph.ts";
import { buildSchedule } from "./schedule.ts";
import { summarizeRuns } from "./summary.ts";

/** input -> conv1 -> act1: the sections of the scripted runs below. */
const graph = {
  name: "scripted",
  ops: [
    { kind: "input", id: "input", inputs: [], shape: [2, 2, 1] },
    {
      kind: "conv",
      id: "conv1",
      inputs: ["input"],
      filters: 1,
      kernel: 1,
      stride: 1,
      padding: "same",
      useBias: true,
    },
    { kind: "activation", id: "act1", inputs: ["conv1"], producer: "conv1" },
  ],
} as unknown as Graph;
const schedule = buildSchedule({ graph, fracBits: 9, masks: { act1: ["relu"] } });

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
  // The answer to the client's online message: one round trip.
  meters.server.recordSent(500);
  meters.client.recordReceived(500);
  return { client: meters.client.snapshot(), server: meters.server.snapshot() };
}

Deno.test("summarizeRuns: medians of the client's phases, per-layer times (whose clock from the schedule) and bytes by direction", () => {
  const summary = summarizeRuns(schedule, [scripted(1), scripted(3), scripted(2)]);
  assert.equal(summary.offline_s, 2.4);
  assert.equal(summary.online_s, 0.62);
  assert.equal(summary.total_s, 3.02);
  assert.equal(summary.bytes, 55500);
  assert.deepEqual(summary.offline_bytes, { to_server: 51000, to_client: 0 });
  const none = { to_server: 0, to_client: 0 };
  assert.deepEqual(summary.layers.conv1, {
    kind: "he-linear",
    offline_s: 0.4,
    online_s: 0.02,
    offline_bytes: { to_server: 1000, to_client: 0 },
    online_bytes: none,
    offline_round_trips: 0,
    online_round_trips: 0,
  });
  assert.deepEqual(summary.layers.act1, {
    kind: "activation",
    offline_s: 2,
    online_s: 0.6,
    offline_bytes: { to_server: 50000, to_client: 0 },
    online_bytes: { to_server: 4000, to_client: 500 },
    offline_round_trips: 0,
    online_round_trips: 1,
  });
  assert.deepEqual(summary.layers.input, {
    kind: "input",
    offline_s: 0,
    online_s: 0,
    offline_bytes: none,
    online_bytes: none,
    offline_round_trips: 0,
    online_round_trips: 0,
  });
  assert.deepEqual(summary.runs_total_s, [1.51, 4.53, 3.02]);
});
