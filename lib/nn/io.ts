/**
 * Saving and loading models as a directory (`model.json` + `weights.bin`, TensorFlow.js's layers
 * format) under Deno, whose file system tfjs's own `file://` handler (Node-only) cannot reach;
 * plus the weight (de)serialisation pieces checkpoints reuse.
 *
 * Loading checks sizes and shapes itself, so a truncated or mismatched weight file fails naming
 * the file, the weight and what was expected, instead of deep inside TensorFlow.js.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { writeFileAtomic } from "../data/atomic.ts";
// Registers the MaskedActivation class, so saved models reload without the building code.
import "./masked_activation.ts";

/** File names inside a model directory. */
export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";

/** One weight's description in a manifest (name, shape, dtype), as tfjs writes it. */
export type WeightSpec = tf.io.WeightsManifestEntry;

/** A named tensor, as models' and optimizers' `getWeights` return them. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * How a model's float32 weights are stored: as they are, or as IEEE half floats (tfjs's "float16"
 * quantization, read back as float32), which halves the file: VGG-16's 60 MB become 30 MB. A
 * weight with a value beyond half's range (|v| > 65504) stays float32.
 */
export type WeightStorage = "float32" | "float16";

/** Largest finite half float. */
const HALF_MAX = 65504;

function specBytes(spec: WeightSpec): number {
  const elements = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.quantization?.dtype === "float16" && spec.dtype === "float32") return 2 * elements;
  const per = BYTES[spec.dtype];
  if (spec.quantization || per === undefined) {
    throw new Error(
      `weight '${spec.name}': dtype ${spec.dtype}${spec.quantization ? " (quantized)" : ""} is not supported`,
    );
  }
  return elements * per;
}

const f32 = new Float32Array(1), f32Bits = new Uint32Array(f32.buffer);

/** The IEEE binary16 bits nearest to `v` (ties to even; beyond the range: infinity). */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = f32Bits[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  // Normal halves keep 10 of the 23 mantissa bits; subnormal ones (e <= 0) shift the implicit 1 in.
  const full = e > 0 ? mantissa : mantissa | 0x800000;
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign;
  let half = (e > 0 ? e << 10 : 0) | (full >>> shift);
  const rest = full & ((1 << shift) - 1), halfway = 1 << (shift - 1);
  // A carry out of the mantissa correctly moves to the next exponent (or to infinity).
  if (rest > halfway || (rest === halfway && (half & 1))) half++;
  return sign | half;
}

/**
 * `data` laid out by `specs` with every float32 weight that fits half's range stored as float16
 * (see {@link WeightStorage}); other weights are copied as they are.
 */
function toFloat16(
  data: Uint8Array,
  specs: readonly WeightSpec[],
): { data: Uint8Array; specs: WeightSpec[] } {
  const parts: Uint8Array[] = [];
  const out: WeightSpec[] = [];
  let offset = 0;
  for (const spec of specs) {
    const bytes = specBytes(spec);
    const raw = data.slice(offset, offset + bytes);
    offset += bytes;
    const values = spec.dtype === "float32" && !spec.quantization ? new Float32Array(raw.buffer) : undefined;
    if (!values || !values.every((v) => Math.abs(v) <= HALF_MAX)) {
      parts.push(raw);
      out.push(spec);
      continue;
    }
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = toHalfBits(values[i]);
    parts.push(new Uint8Array(half.buffer));
    out.push({ ...spec, quantization: { dtype: "float16" } });
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  return { data: joined, specs: out };
}

/** Serialises tensors to one byte buffer and its manifest entries (tfjs's layout: concatenated, little-endian). */
export async function encodeWeights(
  tensors: readonly NamedTensor[],
): Promise<{ data: Uint8Array; specs: WeightSpec[] }> {
  const { data, specs } = await tf.io.encodeWeights([...tensors]);
  return { data: new Uint8Array(tf.io.CompositeArrayBuffer.join(data)), specs };
}

/** Throws a clear error unless `byteLength` is exactly what `specs` describe; `source` names the file. */
function checkWeightBytes(byteLength: number, specs: readonly WeightSpec[], source: string): void {
  let offset = 0;
  for (const spec of specs) {
    const bytes = specBytes(spec);
    if (offset + bytes > byteLength) {
      throw new Error(
        `${source} is truncated: it has ${byteLength} bytes, but weight '${spec.name}' ` +
          `[${spec.shape}] ${spec.dtype} needs bytes ${offset}..${
            offset + bytes
          } and all ${specs.length} weights ` +
          `need ${
            specs.reduce((a, s) => a + specBytes(s), 0)
          } bytes. The file is incomplete or from another ` +
          `save; save the model again, or copy the ${WEIGHTS_FILE} written together with its ${MODEL_FILE}.`,
      );
    }
    offset += bytes;
  }
  if (offset !== byteLength) {
    throw new Error(
      `${source} has ${byteLength} bytes but its manifest describes ${offset} bytes (${specs.length} weights): ` +
        `the weights belong to a different model or save; copy the ${WEIGHTS_FILE} written together with its ${MODEL_FILE}.`,
    );
  }
}

/**
 * Deserialises `data` laid out by `specs` into tensors by name. `source` names the file in
 * errors: a size mismatch says how many bytes were expected, which weight is cut off, and what
 * to do.
 */
export function decodeWeights(
  data: Uint8Array,
  specs: readonly WeightSpec[],
  source = "weight data",
): tf.NamedTensorMap {
  checkWeightBytes(data.byteLength, specs, source);
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(buffer, [...specs]);
}

async function readFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`no ${what} at ${path}: save the model there first (saveModel)`);
    }
    throw e;
  }
}

interface ModelJSON {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: tf.io.TrainingConfig;
  userDefinedMetadata?: tf.io.ModelArtifacts["userDefinedMetadata"];
}

/**
 * A tfjs IOHandler over a directory: `save` writes `weights.bin` and `model.json`, each atomically
 * (so a crash never leaves a half-written file); `load` reads them and checks the weight file's
 * size. Use it with `model.save(handler)` or `tfl.loadLayersModel(handler)`; {@link loadModel}
 * adds per-weight shape checks.
 */
export function directoryHandler(dir: string, storage: WeightStorage = "float32"): tf.io.IOHandler {
  const modelPath = `${dir}/${MODEL_FILE}`;
  const weightsPath = `${dir}/${WEIGHTS_FILE}`;
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error("saving graph-model topologies is not supported");
      }
      const raw = artifacts.weightData
        ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
        : new Uint8Array();
      const { data, specs } = storage === "float16"
        ? toFloat16(raw, artifacts.weightSpecs ?? [])
        : { data: raw, specs: artifacts.weightSpecs ?? [] };
      const json: ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      // Weights first: after a crash between the two, the old model.json's manifest meets the
      // new weights, and the load's size and shape checks reject them unless they fit it.
      await writeFileAtomic(weightsPath, data);
      await writeFileAtomic(modelPath, JSON.stringify(json));
      return {
        modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts),
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      let json: ModelJSON;
      try {
        json = JSON.parse(new TextDecoder().decode(await readFile(modelPath, "model file")));
      } catch (e) {
        if (e instanceof SyntaxError) {
          throw new Error(`${modelPath} is not valid JSON (${e.message}); save the model again`);
        }
        throw e;
      }
      const manifest = json.weightsManifest ?? [];
      if (
        !json.modelTopology || manifest.length > 1 ||
        (manifest[0] && manifest[0].paths.join() !== WEIGHTS_FILE)
      ) {
        throw new Error(
          `${modelPath} is not a model saved by saveModel (needs modelTopology and one ${WEIGHTS_FILE})`,
        );
      }
      const weightSpecs = manifest[0]?.weights ?? [];
      const data = await readFile(weightsPath, "weights file");
      checkWeightBytes(data.byteLength, weightSpecs, weightsPath);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs,
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
      };
    },
  };
}

/**
 * Saves a model (topology, masks and coefficients included) to `dir/model.json` + `dir/weights.bin`,
 * its float weights stored as `storage` says.
 */
export async function saveModel(
  model: tfl.LayersModel,
  dir: string,
  storage: WeightStorage = "float32",
): Promise<void> {
  await model.save(directoryHandler(dir, storage));
}

/**
 * Loads a model saved by {@link saveModel}, without the code that built it. Errors name the file,
 * the weight, the expected and actual shape or size, and the fix.
 */
export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  const handler = directoryHandler(dir);
  const artifacts = await handler.load!();
  const weightsPath = `${dir}/${WEIGHTS_FILE}`;
  // Build from the topology alone, then check each weight against it before loading.
  const model = await tfl.loadLayersModel({
    load: () => Promise.resolve({ modelTopology: artifacts.modelTopology }),
  });
  const specs = (artifacts.weightSpecs ?? []).filter((s) => s.group !== "optimizer");
  const byName = new Map(specs.map((s) => [s.name, s]));
  const fail = (why: string): never => {
    model.dispose();
    throw new Error(
      `${weightsPath} does not fit the model in ${dir}/${MODEL_FILE}: ${why}. The two files come from different ` +
        `saves or architectures; load a directory written by saveModel, or re-save the model.`,
    );
  };
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const spec = byName.get(w.originalName);
      if (!spec) fail(`layer '${layer.name}' weight '${w.originalName}' [${w.shape}] is missing`);
      else if (spec.shape.join() !== w.shape.join()) {
        fail(
          `layer '${layer.name}' weight '${w.originalName}' has shape [${spec.shape}], expected [${w.shape}]`,
        );
      }
      byName.delete(w.originalName);
    }
  }
  if (byName.size) fail(`weights ${[...byName.keys()].map((n) => `'${n}'`).join(", ")} belong to no layer`);
  const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
  const all = decodeWeights(data, artifacts.weightSpecs!, weightsPath);
  model.loadWeights(Object.fromEntries(specs.map((s) => [s.name, all[s.name]])));
  tf.dispose(Object.values(all));
  return model;
}
