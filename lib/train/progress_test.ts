import assert from "node:assert/strict";
import { formatDuration, Progress } from "./progress.ts";

function recorder(tty: boolean, every = 60) {
  const out: string[] = [];
  let t = 0;
  return {
    out,
    tick: (ms: number) => (t += ms),
    options: { write: (s: string) => out.push(s), tty, every, now: () => t },
  };
}

Deno.test("formatDuration", () => {
  assert.equal(formatDuration(5), "0:05");
  assert.equal(formatDuration(125), "2:05");
  assert.equal(formatDuration(3 * 3600 + 61), "3:01:01");
  assert.equal(formatDuration(NaN), "?");
});

Deno.test("terminal: redraws in place, throttled, and ends the line", () => {
  const r = recorder(true);
  const p = new Progress("epoch 1/2", 10, r.options);
  for (let i = 1; i <= 10; i++) {
    r.tick(60);
    p.update(i, { loss: 1 / i, accuracy: i / 10, rate: 123.4 });
  }
  p.finish();
  assert.ok(r.out.length >= 5 && r.out.length < 10, `drew ${r.out.length} times`);
  assert.ok(r.out.slice(0, -1).every((s) => s.startsWith("\r") && s.endsWith("\x1b[K")));
  assert.equal(r.out.at(-1), "\n");
  const last = r.out.at(-2)!;
  assert.match(
    last,
    /epoch 1\/2 \[#{20}\] 10\/10 {2}loss 0\.1000 {2}acc 100\.00% {2}123\.4 img\/s {2}took 0:01/,
  );
});

Deno.test("not a terminal: plain lines every interval and at the end, with an ETA", () => {
  const r = recorder(false, 10);
  const p = new Progress("epoch 3/9", 100, r.options);
  for (let i = 1; i <= 100; i++) {
    r.tick(1000);
    p.update(i, { loss: 2 });
  }
  p.finish();
  assert.ok(r.out.every((s) => s.endsWith("\n") && !s.includes("\r")));
  assert.ok(r.out.length >= 10 && r.out.length <= 12, `${r.out.length} lines`);
  // After the first step, 1 s per step and 99 to go.
  assert.match(r.out[0], /1\/100 .* ETA 1:39/);
});

Deno.test("resumed epoch: the ETA uses only steps run here", () => {
  const r = recorder(false, 0);
  const p = new Progress("epoch", 10, r.options, 5);
  r.tick(2000);
  p.update(6);
  assert.match(r.out[0], /ETA 0:08/);
});
