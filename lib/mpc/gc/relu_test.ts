import assert from "node:assert/strict";
import { evaluatePlain } from "./circuit.ts";
import {
  clientInputBits,
  fromBitMatrix,
  reluCircuit,
  reluLayout,
  reluReference,
  type ReluSpec,
  resolveReluSpec,
  serverInputBits,
  toBitMatrix,
} from "./relu.ts";
import { P } from "../field.ts";
import { Prg } from "../prg.ts";

const H = (P - 1) / 2;
const mod = (x: number, p = P) => ((x % p) + p) % p;

/** The circuit's outputs in the clear, for shares s, c and masks r'. */
function circuitOutputs(s: number[], c: number[], r: number[], spec: ReluSpec): Float64Array {
  const { width } = resolveReluSpec(spec);
  const circuit = reluCircuit(spec);
  const [fs, fc, fr] = [s, c, r].map((v) => Float64Array.from(v));
  const out = evaluatePlain(circuit, s.length, serverInputBits(fs, spec), clientInputBits(fc, fr, spec));
  return fromBitMatrix(out, width, s.length);
}

Deno.test("reference: ReLU of the signed, truncated sum, re-shared under r'", () => {
  const f = (y: number, r: number, spec: ReluSpec) =>
    reluReference(Float64Array.of(mod(y - 12345)), Float64Array.of(12345), Float64Array.of(r), spec)[0];
  assert.equal(f(1000, 0, {}), 1000);
  assert.equal(f(-1000, 0, {}), 0);
  assert.equal(f(1000, 1, {}), 999);
  assert.equal(f(-1000, 1, {}), P - 1); // 0 - 1
  assert.equal(f(1000, 0, { shift: 3 }), 125);
  assert.equal(f(-1000, 0, { shift: 3, relu: false }), P - 125);
  assert.equal(f(-1, 0, { shift: 8, relu: false }), P - 1); // floor(-1 / 256) = -1
  assert.equal(f(H, 0, {}), H); // largest positive
  assert.equal(f(H + 1, 0, {}), 0); // = -H, most negative
});

Deno.test("AND counts: 214 - shift with ReLU, 170 without (Delphi's p)", () => {
  for (const shift of [0, 1, 8, 15, 30]) assert.equal(reluCircuit({ shift }).ands, 214 - shift);
  for (const shift of [0, 8, 36]) assert.equal(reluCircuit({ relu: false, shift }).ands, 170);
  assert.deepEqual(reluLayout(), { serverBits: 41, clientBits: 82, outputBits: 41 });
});

Deno.test("spec validation names the problem", () => {
  assert.throws(() => resolveReluSpec({ modulus: 100 }), /odd integer/);
  assert.throws(() => resolveReluSpec({ shift: 40 }), /shift must be/);
  assert.throws(() => resolveReluSpec({ relu: false, shift: 37 }), /2\^shift to divide.*shift <= 36/);
  assert.throws(() => clientInputBits(Float64Array.of(P), Float64Array.of(0)), /not a field element/);
  assert.throws(() => serverInputBits(Float64Array.of(-1)), /not a field element/);
  assert.throws(() => clientInputBits(Float64Array.of(1, 2), Float64Array.of(0)), /2 shares but 1 masks/);
});

Deno.test("circuit = reference on random shares, every variant", () => {
  const prg = new Prg(new Uint8Array(16).fill(9));
  const n = 3000;
  const [s, c, r] = [0, 1, 2].map(() => Array.from(prg.fieldElements(n, P)));
  for (
    const spec of [{}, { shift: 1 }, { shift: 8 }, { shift: 15 }, { shift: 39 }, { relu: false, shift: 8 }, {
      relu: false,
      shift: 36,
    }]
  ) {
    const want = reluReference(Float64Array.from(s), Float64Array.from(c), Float64Array.from(r), spec);
    assert.deepEqual(circuitOutputs(s, c, r, spec), want, JSON.stringify(spec));
  }
});

Deno.test("circuit = reference at the edges: 0, ±1, the p/2 boundary, wrap-around of shares", () => {
  const ys = [
    0,
    1,
    2,
    P - 1,
    P - 2,
    H - 1,
    H,
    H + 1,
    H + 2,
    255,
    256,
    P - 255,
    P - 256,
    P - 257,
    2 ** 40,
    2 ** 37,
  ];
  const splits = [0, 1, P - 1, H, H + 1, 987654321];
  const masks = [0, 1, P - 1, H, 42];
  const s: number[] = [], c: number[] = [], r: number[] = [];
  for (const y of ys) {
    for (const sv of splits) {
      for (const rv of masks) s.push(sv), c.push(mod(y - sv)), r.push(rv);
    }
  }
  for (const spec of [{}, { shift: 8 }, { shift: 15 }, { relu: false, shift: 8 }, { relu: false }]) {
    const want = reluReference(Float64Array.from(s), Float64Array.from(c), Float64Array.from(r), spec);
    assert.deepEqual(circuitOutputs(s, c, r, spec), want, JSON.stringify(spec));
  }
});

Deno.test("circuit = reference exhaustively over a small field (p = 29)", () => {
  const p = 29;
  for (const spec of [{ modulus: p }, { modulus: p, shift: 2 }, { modulus: p, relu: false, shift: 1 }]) {
    const s: number[] = [], c: number[] = [], r: number[] = [];
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) for (let m = 0; m < p; m += 4) s.push(a), c.push(b), r.push(m);
    }
    const want = reluReference(Float64Array.from(s), Float64Array.from(c), Float64Array.from(r), spec);
    assert.deepEqual(circuitOutputs(s, c, r, spec), want, JSON.stringify(spec));
  }
});

Deno.test("bit matrices round-trip 41-bit values", () => {
  const v = Float64Array.of(0, 1, P - 1, 2 ** 40 + 5, 2 ** 32, 2 ** 32 - 1);
  assert.deepEqual(fromBitMatrix(toBitMatrix(v, 41), 41, v.length), v);
  const m = toBitMatrix(Float64Array.of(5, 2), 3);
  assert.deepEqual([...m], [1, 0, 0, 1, 1, 0]); // bit-major: bit 0 of both, then bit 1, ...
});
