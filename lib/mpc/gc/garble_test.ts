import assert from "node:assert/strict";
import { type Circuit, CircuitBuilder, evaluatePlain, TRUE } from "./circuit.ts";
import { HalfGates, hashIdsUsed } from "./garble.ts";
import { clientInputBits, reluCircuit, serverInputBits } from "./relu.ts";
import { P } from "../field.ts";
import { type AesBackend, defaultAesBackend, Prg, RekeyedAes } from "../prg.ts";

/** Zero-labels and Δ as a garbler would draw them, and the active labels for given bits. */
function setup(circuit: Circuit, n: number, seed: number) {
  const prg = new Prg(new Uint8Array(16).fill(seed));
  const delta = prg.int32s(4);
  delta[0] |= 1;
  const gz = prg.int32s(4 * circuit.garblerInputs * n), ez = prg.int32s(4 * circuit.evaluatorInputs * n);
  const active = (zero: Int32Array, bits: Uint8Array) => {
    const out = zero.slice();
    bits.forEach((b, j) => {
      if (b) { for (let w = 0; w < 4; w++) out[4 * j + w] ^= delta[w]; }
    });
    return out;
  };
  return { prg, delta, gz, ez, active, aes: new RekeyedAes(prg.bytes(16)) };
}

function garbleAndEvaluate(
  circuit: Circuit,
  n: number,
  gBits: Uint8Array,
  eBits: Uint8Array,
  backend?: AesBackend,
) {
  const { delta, gz, ez, active, prg } = setup(circuit, n, 1);
  const start = prg.bytes(16);
  const garbler = new HalfGates(circuit, n, new RekeyedAes(start, backend));
  const evaluator = new HalfGates(circuit, n, new RekeyedAes(start, backend));
  const tables = new Int32Array(garbler.tableWords);
  const decode = garbler.garble(delta, gz, ez, 1000, tables);
  const colours = evaluator.evaluate(tables, active(gz, gBits), active(ez, eBits), 1000);
  return { decode, colours, tables, delta, garbler, evaluator, gz, ez, active, start };
}

function randomReluInputs(n: number, seed: number) {
  const prg = new Prg(new Uint8Array(16).fill(seed));
  const [s, c, r] = [0, 1, 2].map(() => prg.fieldElements(n, P));
  return { gBits: serverInputBits(s), eBits: clientInputBits(c, r) };
}

Deno.test("garbled ReLU decodes to the plaintext circuit on random inputs", () => {
  const circuit = reluCircuit({ shift: 8 });
  const n = 500;
  const { gBits, eBits } = randomReluInputs(n, 2);
  const { decode, colours } = garbleAndEvaluate(circuit, n, gBits, eBits);
  const plain = evaluatePlain(circuit, n, gBits, eBits);
  assert.deepEqual(colours.map((c, j) => c ^ decode[j]), plain);
});

Deno.test("node:crypto backend garbles identically (small batch)", () => {
  if (defaultAesBackend() !== "openssl-ffi") return; // then the test above already used it
  const circuit = reluCircuit();
  const n = 20;
  const { gBits, eBits } = randomReluInputs(n, 3);
  const a = garbleAndEvaluate(circuit, n, gBits, eBits, "openssl-ffi");
  const b = garbleAndEvaluate(circuit, n, gBits, eBits, "node-crypto");
  assert.deepEqual(a.tables, b.tables);
  assert.deepEqual(b.colours.map((c, j) => c ^ b.decode[j]), evaluatePlain(circuit, n, gBits, eBits));
});

Deno.test("negated AND inputs, shared inputs and constant outputs garble correctly", () => {
  const b = new CircuitBuilder();
  const [x, y] = b.garblerWord(2), [u, v] = b.evaluatorWord(2);
  const t = b.and(b.not(x), u);
  b.output(b.and(t, b.not(v)));
  b.output(b.or(b.and(x, y), b.and(b.not(u), y)));
  b.output(b.not(b.xor(t, y)));
  b.output(TRUE);
  const circuit = b.build();
  const n = 64;
  const gBits = new Uint8Array(2 * n), eBits = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    gBits[i] = i & 1, gBits[n + i] = (i >> 1) & 1, eBits[i] = (i >> 2) & 1, eBits[n + i] = (i >> 3) & 1;
  }
  const { decode, colours } = garbleAndEvaluate(circuit, n, gBits, eBits);
  assert.deepEqual(colours.map((c, j) => c ^ decode[j]), evaluatePlain(circuit, n, gBits, eBits));
});

Deno.test("the evaluator's output labels are the garbler's zero-labels XOR value * Δ", () => {
  const circuit = reluCircuit();
  const n = 200;
  const { gBits, eBits } = randomReluInputs(n, 4);
  const { garbler, evaluator, delta } = garbleAndEvaluate(circuit, n, gBits, eBits);
  const plain = evaluatePlain(circuit, n, gBits, eBits);
  const zero = garbler.outputLabels(), got = evaluator.outputLabels();
  for (let j = 0; j < plain.length; j++) {
    const value = plain[j] ^ (circuit.outputs[Math.floor(j / n)] & 1); // wire value before negation
    for (let w = 0; w < 4; w++) assert.equal(got[4 * j + w] ^ zero[4 * j + w], value ? delta[w] : 0);
  }
});

Deno.test("colour bits alone reveal nothing: constant outputs still have balanced colours", () => {
  // Every y negative and r' = 0, so every output z is 0.
  const circuit = reluCircuit();
  const n = 400;
  const s = new Float64Array(n).fill(5), c = new Float64Array(n).fill(P - 10), r = new Float64Array(n);
  const { decode, colours } = garbleAndEvaluate(circuit, n, serverInputBits(s), clientInputBits(c, r));
  assert.ok(colours.every((col, j) => (col ^ decode[j]) === 0));
  const ones = colours.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(ones / colours.length - 0.5) < 0.03, `colour ones fraction ${ones / colours.length}`);
});

Deno.test("without Δ the evaluator cannot use the other label: a guessed label gives garbage", () => {
  const circuit = reluCircuit();
  const n = 100;
  const { gBits, eBits } = randomReluInputs(n, 5);
  const { tables, active, gz, ez, garbler, delta, start } = garbleAndEvaluate(circuit, n, gBits, eBits);
  // Flip the client's input bit 0 of every instance using a wrong offset instead of Δ.
  const forged = active(ez, eBits);
  const wrong = new Prg(new Uint8Array(16).fill(6)).int32s(4);
  wrong[0] |= 1;
  for (let i = 0; i < n; i++) for (let w = 0; w < 4; w++) forged[4 * i + w] ^= wrong[w];
  const evaluator = new HalfGates(circuit, n, new RekeyedAes(start));
  evaluator.evaluate(tables, active(gz, gBits), forged, 1000);
  const zero = garbler.outputLabels(), got = evaluator.outputLabels();
  let valid = 0;
  for (let j = 0; j < got.length; j += 4) {
    const d = [0, 1, 2, 3].map((w) => got[j + w] ^ zero[j + w]);
    if (d.every((x) => x === 0) || d.every((x, w) => x === delta[w])) valid++;
  }
  // Outputs that do not depend on input bit 0 stay valid; the rest must be garbage.
  assert.ok(valid < got.length / 4 / 2, `${valid} of ${got.length / 4} output labels still valid`);
});

Deno.test("tables depend on the hash ids; a wrong id base breaks evaluation", () => {
  const circuit = reluCircuit();
  const n = 50;
  const { gBits, eBits } = randomReluInputs(n, 7);
  const { tables, active, gz, ez, decode, start, delta } = garbleAndEvaluate(circuit, n, gBits, eBits);
  const again = new HalfGates(circuit, n, new RekeyedAes(start));
  const other = new Int32Array(again.tableWords);
  again.garble(delta, gz, ez, 1000 + hashIdsUsed(circuit), other);
  assert.notDeepEqual(other, tables);
  const colours = again.evaluate(tables, active(gz, gBits), active(ez, eBits), 1001);
  const plain = evaluatePlain(circuit, n, gBits, eBits);
  const agree = colours.reduce((a, c, j) => a + ((c ^ decode[j]) === plain[j] ? 1 : 0), 0);
  assert.ok(agree < 0.7 * plain.length, `${agree} of ${plain.length} outputs still right`);
});

Deno.test("input checks name the expected sizes", () => {
  const circuit = reluCircuit();
  const { delta, gz, ez, aes } = setup(circuit, 4, 8);
  const hg = new HalfGates(circuit, 4, aes);
  assert.throws(() => hg.garble(delta, gz.subarray(4), ez, 0), /41 x 4 labels/);
  const even = delta.slice();
  even[0] &= ~1;
  assert.throws(() => hg.garble(even, gz, ez, 0), /colour bit 1/);
  assert.throws(() => new HalfGates(circuit, 0, aes), /positive integer/);
});
