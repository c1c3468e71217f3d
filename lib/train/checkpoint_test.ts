import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkWeightInfo,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";

const sample = () => ({
  header: {
    config: { lr: 0.1, name: "x" },
    progress: { epoch: 2, step: 17 },
    weightInfo: [{ name: "conv1/kernel", shape: [1, 1, 1, 3] }, { name: "dense1/bias", shape: [2] }],
    savedAt: "2024-01-01T00:00:00Z",
  },
  weights: Float32Array.from([1.5, -2, 3e-8, NaN, 7]),
  optimizer: Float32Array.from([0.25, -0.5, 1e30]),
});

Deno.test("checkpoint round trip keeps arrays bit-exact and the header", () => {
  const c = sample();
  const back = decodeCheckpoint(encodeCheckpoint(c));
  assert.deepEqual(back.header, c.header);
  assert.deepEqual(new Uint8Array(back.weights.buffer), new Uint8Array(c.weights.buffer));
  assert.deepEqual(back.optimizer, c.optimizer);
});

Deno.test("corrupted or truncated checkpoints are rejected with a fix", () => {
  const bytes = encodeCheckpoint(sample());
  const flipped = bytes.slice();
  flipped[flipped.length - 1] ^= 1;
  assert.throws(
    () => decodeCheckpoint(flipped, "f"),
    /f: not a valid checkpoint \(payload checksum mismatch\); delete it/,
  );
  assert.throws(() => decodeCheckpoint(bytes.slice(0, bytes.length - 4)), /payload length/);
  assert.throws(
    () => decodeCheckpoint(new TextEncoder().encode("hello world, not a checkpoint")),
    /wrong magic/,
  );
});

Deno.test("save and load through the file system; missing file gives undefined", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "run", "checkpoint.bin");
    assert.equal(await loadCheckpoint(path), undefined);
    await saveCheckpoint(path, sample());
    const back = await loadCheckpoint(path);
    assert.deepEqual(back?.optimizer, sample().optimizer);
    // No temp file is left behind.
    assert.deepEqual([...Deno.readDirSync(join(dir, "run"))].map((e) => e.name), ["checkpoint.bin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkWeightInfo names the first mismatching weight", () => {
  const c = sample();
  checkWeightInfo(c, c.header.weightInfo, "run");
  assert.throws(
    () => checkWeightInfo(c, [c.header.weightInfo[0], { name: "dense1/bias", shape: [3] }], "run"),
    /weight 1 is dense1\/bias \[2\] in the checkpoint but dense1\/bias \[3\] in the model/,
  );
  assert.throws(() => checkWeightInfo(c, c.header.weightInfo.slice(0, 1), "run"), /but nothing in the model/);
});
