import assert from "node:assert/strict";
import { CircuitBuilder, evaluatePlain, FALSE, Op, TRUE } from "./circuit.ts";

Deno.test("constants and negations fold without gates", () => {
  const b = new CircuitBuilder();
  const [x, y] = b.evaluatorWord(2);
  assert.equal(b.and(x, FALSE), FALSE);
  assert.equal(b.and(TRUE, x), x);
  assert.equal(b.and(x, x), x);
  assert.equal(b.and(x, b.not(x)), FALSE);
  assert.equal(b.xor(x, x), FALSE);
  assert.equal(b.xor(x, b.not(x)), TRUE);
  assert.equal(b.xor(x, TRUE), b.not(x));
  assert.equal(b.not(b.not(y)), y);
  b.output(b.xor(b.not(x), y)); // one XOR gate, negation on the output literal
  const c = b.build();
  assert.equal(c.ands + c.xors, 1);
  assert.equal(c.outputs[0] & 1, 1);
});

Deno.test("structural hashing shares identical gates; dead gates are dropped", () => {
  const b = new CircuitBuilder();
  const [x, y, z] = b.garblerWord(3);
  const g1 = b.and(x, y), g2 = b.and(y, x);
  assert.equal(g1, g2);
  b.and(x, z); // never used
  b.xor(y, z); // never used
  b.output(g1);
  const c = b.build();
  assert.equal(c.ands, 1);
  assert.equal(c.xors, 0);
});

Deno.test("inputs must come first", () => {
  const b = new CircuitBuilder();
  const x = b.garblerInput(), y = b.garblerInput();
  b.and(x, y);
  assert.throws(() => b.evaluatorInput(), /before the first gate/);
});

Deno.test("slots are reused once values die, and evaluation stays right", () => {
  // A long chain: x0 & x1 & ... & x31, then OR of all prefixes through XORs.
  const b = new CircuitBuilder();
  const xs = b.evaluatorWord(32);
  let acc = xs[0], parity = FALSE;
  for (let i = 1; i < 32; i++) {
    acc = b.and(acc, b.not(xs[i]));
    parity = b.xor(parity, acc);
  }
  b.output(parity);
  const c = b.build();
  assert.ok(c.slots < 32 + 2 * 31, `slots ${c.slots} should be fewer than wires`);
  const n = 64;
  const bits = new Uint8Array(32 * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < 32; k++) bits[k * n + i] = (i >> (k % 6)) & 1 ? 1 : 0;
  const out = evaluatePlain(c, n, new Uint8Array(0), bits);
  for (let i = 0; i < n; i++) {
    let a = bits[i], p = 0;
    for (let k = 1; k < 32; k++) {
      a &= 1 - bits[k * n + i];
      p ^= a;
    }
    assert.equal(out[i], p, `instance ${i}`);
  }
});

Deno.test("full adder truth table, negated AND inputs, constant outputs", () => {
  const b = new CircuitBuilder();
  const x = b.garblerInput(), y = b.evaluatorInput(), cin = b.evaluatorInput();
  const xc = b.xor(x, cin), yc = b.xor(y, cin);
  b.output(b.xor(xc, y));
  b.output(b.xor(cin, b.and(xc, yc)));
  b.output(b.and(b.not(x), b.not(y))); // NOR
  b.output(TRUE);
  const c = b.build();
  assert.equal(c.ands, 2);
  assert.ok(
    c.gates.some((_, k) =>
      k % 4 === 0 && c.gates[k] === Op.And && (c.gates[k + 1] & c.gates[k + 2] & 1) === 1
    ),
  );
  const n = 8;
  const g = Uint8Array.from({ length: n }, (_, i) => i & 1);
  const e = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) e[i] = (i >> 1) & 1, e[n + i] = (i >> 2) & 1;
  const out = evaluatePlain(c, n, g, e);
  for (let i = 0; i < n; i++) {
    const sum = (i & 1) + ((i >> 1) & 1) + ((i >> 2) & 1);
    assert.deepEqual([out[i], out[n + i], out[2 * n + i], out[3 * n + i]], [
      sum & 1,
      sum >> 1,
      (i & 3) === 0 ? 1 : 0,
      1,
    ]);
  }
  assert.throws(() => evaluatePlain(c, n, g, g), /expected/);
});
