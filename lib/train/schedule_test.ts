import assert from "node:assert/strict";
import { learningRate, parseSchedule } from "./schedule.ts";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

Deno.test("cosine: linear warm-up to the peak, cosine to final at the last step", () => {
  const s = parseSchedule("cosine:0.1:2:0.001");
  const lr = (step: number) => learningRate(s, step, 10, 100);
  close(lr(0), 0.1 / 20);
  close(lr(19), 0.1);
  close(lr(20), 0.1);
  close(lr(99), 0.001);
  close(lr(20 + 79 / 2), (0.1 + 0.001) / 2);
  for (let i = 21; i < 100; i++) assert.ok(lr(i) < lr(i - 1), `not decreasing at ${i}`);
});

Deno.test("onecycle rises to the peak at pctStart and ends far below the start", () => {
  const s = parseSchedule("onecycle:0.2:0.25");
  const lr = (step: number) => learningRate(s, step, 10, 100);
  close(lr(0), 0.2 / 25);
  close(lr(25), 0.2);
  assert.ok(lr(99) < lr(0) / 1000);
});

Deno.test("step schedule multiplies by gamma at each milestone epoch", () => {
  const s = parseSchedule("step:0.1:0.1:3,6");
  close(learningRate(s, 29, 10, 100), 0.1);
  close(learningRate(s, 30, 10, 100), 0.01);
  close(learningRate(s, 60, 10, 100), 0.001);
});

Deno.test("parseSchedule rejects malformed text with the expected form", () => {
  assert.throws(() => parseSchedule("cosine"), /cosine:PEAK/);
  assert.throws(() => parseSchedule("linear:1"), /unknown kind/);
  assert.throws(() => parseSchedule("constant:abc"), /not a number/);
  assert.deepEqual(parseSchedule("constant:0.5"), { kind: "constant", lr: 0.5 });
});
