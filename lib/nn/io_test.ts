import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import assert from "node:assert/strict";
import { cnn7 } from "./architectures.ts";
import {
  decodeWeights,
  directoryHandler,
  encodeWeights,
  loadModel,
  MODEL_FILE,
  saveModel,
  toHalfBits,
  WEIGHTS_FILE,
} from "./io.ts";
import { MaskedActivation } from "./masked_activation.ts";
import { buildModel } from "./model.ts";
import { applyPlan } from "./apply_plan.ts";
import type { Plan } from "./plan.ts";

await tf.setBackend("cpu");

const GRAPH = cnn7({ inputShape: [8, 8, 3] });
const PLAN: Plan = {
  model: "cnn7",
  sites: [0.5, 1, 0.25, 0, 0.75, 0.5, 0.5].map((alpha, i) => ({
    alpha,
    beta: ([2, 3, 0, 1] as const)[i % 4],
  })),
};
const X = tf.randomNormal([4, 8, 8, 3], 0, 1, "float32", 2);

async function savedModel(): Promise<{ dir: string; model: tfl.LayersModel }> {
  const model = buildModel(GRAPH, { seed: 5 });
  applyPlan(model, GRAPH, PLAN, X);
  const dir = await Deno.makeTempDir();
  await saveModel(model, `${dir}/m`);
  return { dir: `${dir}/m`, model };
}

const sites = (m: tfl.LayersModel) =>
  m.layers.filter((l): l is MaskedActivation => l instanceof MaskedActivation);

Deno.test("save and reload without the building code: same outputs, masks, coefficients and plan", async () => {
  const { dir, model } = await savedModel();
  for (const loaded of [await loadModel(dir), await tfl.loadLayersModel(directoryHandler(dir))]) {
    const [a, b] = [model, loaded].map((m) => (m.predict(X) as tf.Tensor).dataSync());
    assert.deepEqual(b, a);
    assert.deepEqual(sites(loaded).map((s) => [s.alpha, s.degree]), PLAN.sites.map((s) => [s.alpha, s.beta]));
    sites(model).forEach((s, i) => {
      assert.deepEqual(sites(loaded)[i].getMask(), s.getMask());
      assert.deepEqual(sites(loaded)[i].getCoefficients(), s.getCoefficients());
    });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a fresh process that imports only io.ts reloads the model and reproduces its outputs", async () => {
  const { dir, model } = await savedModel();
  const json = JSON.parse(await Deno.readTextFile(`${dir}/${MODEL_FILE}`));
  const act2 = json.modelTopology.config.layers.find((l: { name: string }) => l.name === "act2");
  assert.equal(act2.class_name, "MaskedActivation");
  assert.deepEqual([act2.config.alpha, act2.config.degree], [1, 3]);
  const io = new URL("./io.ts", import.meta.url).href;
  const code = `
    import * as tf from "@tensorflow/tfjs-core";
    import "@tensorflow/tfjs-backend-cpu";
    import { loadModel } from "${io}";
    await tf.setBackend("cpu");
    const x = tf.tensor4d(${JSON.stringify(Array.from(X.dataSync()))}, [4, 8, 8, 3]);
    const m = await loadModel("${dir}");
    console.log(JSON.stringify(Array.from(m.predict(x).dataSync())));`;
  const root = new URL("../../", import.meta.url).pathname; // where deno.json maps the npm packages
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code], cwd: root, stderr: "inherit" })
    .output();
  assert.ok(out.success, "subprocess failed");
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.deepEqual(
    JSON.parse(lines[lines.length - 1]),
    Array.from((model.predict(X) as tf.Tensor).dataSync()),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a truncated weights file fails naming the file, the weight, the bytes and the fix", async () => {
  const { dir } = await savedModel();
  const bytes = await Deno.readFile(`${dir}/${WEIGHTS_FILE}`);
  await Deno.writeFile(`${dir}/${WEIGHTS_FILE}`, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(loadModel(dir), (e: Error) => {
    assert.match(
      e.message,
      new RegExp(`${dir}/weights.bin is truncated: it has ${bytes.length - 100} bytes`),
    );
    // The file ends with act7/mask (16 floats, 64 bytes) after conv7_bn/moving_variance (64 bytes),
    // so cutting 100 bytes leaves the moving variance the first incomplete weight.
    assert.match(e.message, /weight 'conv7_bn\/moving_variance' \[16\] float32 needs bytes/);
    assert.match(e.message, new RegExp(`need ${bytes.length} bytes`));
    assert.match(e.message, /save the model again/);
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("weights of another architecture fail with the layer, both shapes and the fix", async () => {
  const { dir } = await savedModel();
  const other = buildModel(cnn7({ inputShape: [8, 8, 3], numClasses: 100 }));
  const otherDir = `${dir}-100`;
  await saveModel(other, otherDir);
  // weights.bin of the 100-class model beside the 10-class model.json: sizes disagree.
  await Deno.copyFile(`${otherDir}/${WEIGHTS_FILE}`, `${dir}/${WEIGHTS_FILE}`);
  await assert.rejects(
    loadModel(dir),
    /weights.bin has \d+ bytes but its manifest describes \d+ bytes .*different model/,
  );
  // Manifest and weights of the 100-class model, topology of the 10-class one: shapes disagree.
  const ours = JSON.parse(await Deno.readTextFile(`${dir}/${MODEL_FILE}`));
  const theirs = JSON.parse(await Deno.readTextFile(`${otherDir}/${MODEL_FILE}`));
  await Deno.writeTextFile(
    `${dir}/${MODEL_FILE}`,
    JSON.stringify({ ...theirs, modelTopology: ours.modelTopology }),
  );
  await assert.rejects(
    loadModel(dir),
    /weights.bin does not fit the model in .*model.json: layer 'dense1' weight 'dense1\/kernel' has shape \[64,100\], expected \[64,10\]\. .*re-save/,
  );
  await Deno.remove(`${dir}/${MODEL_FILE}`);
  await assert.rejects(loadModel(dir), /no model file at .*model.json: save the model there first/);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(otherDir, { recursive: true });
});

Deno.test("encodeWeights/decodeWeights round-trip named tensors and check sizes", async () => {
  const tensors = [
    { name: "a", tensor: tf.tensor2d([[1, 2.5], [-3, 4]]) },
    { name: "opt/step", tensor: tf.scalar(7, "int32") },
  ];
  const { data, specs } = await encodeWeights(tensors);
  assert.equal(data.byteLength, 4 * 4 + 4);
  const back = decodeWeights(data, specs);
  assert.deepEqual(back.a.arraySync(), [[1, 2.5], [-3, 4]]);
  assert.equal(back["opt/step"].dtype, "int32");
  assert.equal(back["opt/step"].arraySync(), 7);
  assert.throws(
    () => decodeWeights(data.subarray(0, 10), specs, "ckpt.bin"),
    /ckpt.bin is truncated: it has 10 bytes, but weight 'a' \[2,2\]/,
  );
  assert.throws(
    () => decodeWeights(new Uint8Array(24), specs, "ckpt.bin"),
    /ckpt.bin has 24 bytes but its manifest describes 20 bytes/,
  );
});

/** tfjs's own reading of half-float bit patterns (what loading a float16 model uses). */
function decodeHalves(bits: Uint16Array): Float32Array {
  const spec = {
    name: "h",
    shape: [bits.length],
    dtype: "float32" as const,
    quantization: { dtype: "float16" as const },
  };
  return tf.io.decodeWeights(bits.slice().buffer, [spec]).h.dataSync() as Float32Array;
}

Deno.test("toHalfBits: every half float maps back to its own bits; other floats go to the nearest half, ties to even", () => {
  const all = decodeHalves(Uint16Array.from({ length: 65536 }, (_, i) => i));
  for (let i = 0; i < 65536; i++) {
    if (Number.isNaN(all[i])) assert.ok(Number.isNaN(all[toHalfBits(all[i])]), `NaN pattern ${i}`);
    else assert.equal(toHalfBits(all[i]), i, `pattern ${i} (${all[i]})`);
  }
  const values = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519.99, 65520, 2 ** -25, 3 * 2 ** -26, -1e-30, 1e9];
  for (let k = 0; k < 2000; k++) {
    values.push(Math.fround((Math.random() - 0.5) * 10 ** (Math.random() * 12 - 8)));
  }
  for (const v of values) {
    const h = toHalfBits(v);
    const got = all[h];
    if (!Number.isFinite(got)) {
      assert.ok(Math.abs(v) >= 65520, `${v} overflowed`);
      continue;
    }
    // No other finite half of the same sign is nearer (at a tie, the chosen one has an even mantissa).
    for (const other of [h - 1, h + 1]) {
      if (other < 0 || other > 65535 || (other & 0x7fff) >= 0x7c00 || (other >> 15) !== (h >> 15)) continue;
      const d = Math.abs(all[other] - v), mine = Math.abs(got - v);
      assert.ok(mine < d || (mine === d && (h & 1) === 0), `${v}: ${got} (bits ${h}) vs ${all[other]}`);
    }
  }
  assert.equal(all[toHalfBits(65520)], Infinity, "beyond the range rounds to infinity");
  assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00, "a tie between 1 and its successor goes to the even 1");
});

Deno.test("float16 storage: half the weight bytes, outputs within half precision, masks exact; a weight beyond half's range stays float32", async () => {
  const { dir, model } = await savedModel();
  const half = `${dir}-f16`;
  const dense = model.layers.find((l) => l.getClassName() === "Dense")!;
  const [kernel, ...rest] = dense.getWeights();
  dense.setWeights([tf.fill(kernel.shape, 1e5), ...rest]);
  try {
    await saveModel(model, half, "float16");
    const specs = JSON.parse(await Deno.readTextFile(`${half}/${MODEL_FILE}`)).weightsManifest[0].weights;
    const fc = specs.find((w: { name: string }) => w.name === `${dense.name}/kernel`);
    assert.equal(fc.quantization, undefined, "1e5 does not fit a half float");
    assert.ok(specs.filter((w: { quantization?: unknown }) => w.quantization).length > 10);
    const full = `${dir}-f32`;
    await saveModel(model, full);
    const [a, b] = [full, half].map((d) => Deno.statSync(`${d}/${WEIGHTS_FILE}`).size);
    const fcBytes = fc.shape.reduce((x: number, y: number) => x * y, 1) * 4;
    assert.ok(Math.abs(b - ((a - fcBytes) / 2 + fcBytes)) < 64, `${b} bytes vs ${a}`);
    const loaded = await loadModel(half);
    sites(model).forEach((s, i) => assert.deepEqual(sites(loaded)[i].getMask(), s.getMask()));
    const [x, y] = [model, loaded].map((m) => (m.predict(X) as tf.Tensor).dataSync());
    const scale = Math.max(...x.map(Math.abs));
    x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) <= 2e-3 * scale, `output ${i}: ${v} vs ${y[i]}`));
    await Deno.remove(full, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(half, { recursive: true });
  }
});
