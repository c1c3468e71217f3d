import assert from "node:assert/strict";
import { DEFAULT_SECTION, TrafficMeter } from "./accounting.ts";

function fakeClock() {
  const clock = { t: 1000, now: () => clock.t };
  return clock;
}

Deno.test("TrafficMeter counts bytes, messages and time per (section, phase) cell", () => {
  const clock = fakeClock();
  const meter = new TrafficMeter("offline", clock.now);
  meter.recordSent(10); // handshake, under the default section
  meter.recordReceived(12);
  clock.t += 5;
  meter.setSection("conv1");
  meter.recordSent(100);
  meter.recordSent(50);
  clock.t += 20;
  meter.setSection("relu1");
  meter.recordReceived(7);
  clock.t += 30;
  meter.setPhase("online"); // passes through ("relu1", "online") without time: not listed
  meter.setSection("conv1");
  meter.recordReceived(3);
  clock.t += 2;

  const stats = meter.snapshot();
  assert.deepEqual(
    stats.sections.map((s) => [s.section, s.phase, s.bytesSent, s.bytesReceived, s.messagesSent, s.timeMs]),
    [
      [DEFAULT_SECTION, "offline", 10, 12, 1, 5],
      ["conv1", "offline", 150, 0, 2, 20],
      ["relu1", "offline", 0, 7, 0, 30],
      ["conv1", "online", 0, 3, 0, 2],
    ],
  );
  assert.deepEqual(stats.phases.offline, {
    bytesSent: 160,
    bytesReceived: 19,
    messagesSent: 3,
    messagesReceived: 2,
    roundTrips: 2,
    timeMs: 55,
  });
  assert.equal(stats.phases.online.bytesReceived, 3);
  assert.equal(stats.total.bytesSent + stats.total.bytesReceived, 182);
  assert.equal(stats.total.timeMs, 57);
});

Deno.test("TrafficMeter counts a round trip per receive that follows a send", () => {
  const meter = new TrafficMeter();
  meter.recordSent(1);
  meter.recordSent(1);
  meter.recordReceived(1); // 1
  meter.recordReceived(1);
  meter.recordSent(1);
  meter.recordReceived(1); // 2
  meter.recordReceived(1);
  assert.equal(meter.snapshot().total.roundTrips, 2);
});

Deno.test("TrafficMeter snapshots are copies and count the current cell's time up to now", () => {
  const clock = fakeClock();
  const meter = new TrafficMeter("online", clock.now);
  assert.equal(meter.phase, "online");
  assert.equal(meter.section, DEFAULT_SECTION);
  clock.t += 4;
  const first = meter.snapshot();
  first.sections[0].bytesSent = 999;
  clock.t += 6;
  const second = meter.snapshot();
  assert.equal(first.total.timeMs, 4);
  assert.equal(second.total.timeMs, 10);
  assert.equal(second.sections[0].bytesSent, 0);
});
