import assert from "node:assert/strict";
import { benchGc } from "./bench_gc.ts";

Deno.test("bench_gc measures a small run and its byte accounting adds up", async () => {
  const r = await benchGc({ n: 256, chunk: 128, repeats: 1, shift: 8 });
  assert.equal(r.correct, true);
  assert.equal(r.circuit.ands, 206);
  const b = r.bytesPerRelu;
  assert.equal(b.offlineClient, b.expected.otColumns);
  assert.ok(
    b.offlineServer - b.expected.tables > 0 && b.offlineServer - b.expected.tables < 1,
    "tables + header",
  );
  assert.equal(b.onlineServer, b.expected.serverLabels);
  assert.equal(b.onlineClient, b.expected.colourBits);
  for (const t of Object.values(r.perReluMicroseconds)) assert.ok(t.cpuMin > 0 && t.wallMin > 0);
});
