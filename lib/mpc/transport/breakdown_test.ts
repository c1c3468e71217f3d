import assert from "node:assert/strict";
import { formatBreakdown, formatBytes, formatDuration } from "./breakdown.ts";
import { TrafficMeter } from "./accounting.ts";

Deno.test("formatBytes and formatDuration pick readable units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(1536 * 1024), "1.50 MiB");
  assert.equal(formatBytes(300 * 1024 * 1024), "300.0 MiB");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.00 GiB");
  assert.equal(formatDuration(0.123), "0.12 ms");
  assert.equal(formatDuration(12.34), "12.3 ms");
  assert.equal(formatDuration(4560), "4.56 s");
  assert.equal(formatDuration(150_000), "2.5 min");
});

Deno.test("formatBreakdown: one row per section, phase column groups, totals", () => {
  const clock = { t: 0 };
  const meter = new TrafficMeter("offline", () => clock.t);
  meter.setSection("conv1");
  meter.recordSent(2048);
  meter.recordReceived(100);
  clock.t += 1500;
  meter.setSection("relu1");
  meter.recordSent(10);
  clock.t += 20;
  meter.setPhase("online");
  meter.recordReceived(5 * 1024 * 1024);
  clock.t += 3;
  const table = formatBreakdown(meter.snapshot(), "server");
  const lines = table.split("\n");
  assert.match(lines[0], /^server: 2\.0 KiB sent, 5\.00 MiB received, 4 messages, 1\.52 s$/);
  assert.match(lines[1], /offline .*\| .*online/);
  assert.match(lines[2], /^section \| +time +sent +received +rounds \| +time +sent +received +rounds$/);
  const cells = (label: string) =>
    lines.find((line) => line.startsWith(label + " "))!.split(/\s*\|\s*|\s{2,}/).map((cell) => cell.trim());
  assert.deepEqual(cells("conv1"), ["conv1", "1.50 s", "2.0 KiB", "100 B", "1", "-", "-", "-", "-"]);
  assert.deepEqual(cells("relu1"), [
    "relu1",
    "20.0 ms",
    "10 B",
    "0 B",
    "0",
    "3.0 ms",
    "0 B",
    "5.00 MiB",
    "1",
  ]);
  assert.deepEqual(cells("total"), [
    "total",
    "1.52 s",
    "2.0 KiB",
    "100 B",
    "1",
    "3.0 ms",
    "0 B",
    "5.00 MiB",
    "1",
  ]);
  // All rows line up: same length and bars in the same places.
  const bars = lines.slice(2).map((line) =>
    [...line].flatMap((c, i) => c === "|" || c === "+" ? [i] : []).join()
  );
  assert.equal(new Set(bars).size, 1);
  assert.equal(new Set(lines.slice(2).map((line) => line.length)).size, 1);
});
