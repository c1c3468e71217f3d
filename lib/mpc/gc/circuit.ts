/**
 * Boolean circuits for garbling: a builder with constant folding and structural hashing, and a
 * compiled form whose wires live in reusable slots.
 *
 * Signals are literals, as in AIGER: 0 is false, 1 is true, and wire w is `2w + 2` (or
 * `2w + 3` negated). Negation is free: it never becomes a gate. The compiled circuit has only
 * XOR gates (free with free-XOR) and AND gates whose inputs may be negated (the garbler swaps
 * the roles of a wire's two labels), so the cost of a circuit is its AND count.
 *
 * @module
 */

/** A signal: 0 = false, 1 = true, `2w + 2 + neg` = wire w, negated if `neg` is 1. */
export type Lit = number;

/** The constant false. */
export const FALSE: Lit = 0;
/** The constant true. */
export const TRUE: Lit = 1;

/** Gate opcodes of a compiled circuit. */
export const enum Op {
  Xor = 0,
  And = 1,
}

/**
 * A compiled circuit. Wires are slots that are reused once their value is dead; input k of the
 * garbler sits in slot k and input k of the evaluator in slot `garblerInputs + k` (until
 * overwritten). `gates` holds 4 ints per gate: op, input literal a, input literal b, output
 * slot, where an input literal is `2 * slot + neg` (neg only on AND inputs). `outputs` holds
 * literals in the builder's encoding (0/1 constants, `2 * slot + 2 + neg`).
 */
export interface Circuit {
  /** Number of garbler (server) input bits. */
  readonly garblerInputs: number;
  /** Number of evaluator (client) input bits. */
  readonly evaluatorInputs: number;
  /** Number of label slots the evaluation needs. */
  readonly slots: number;
  /** op, a, b, out for each gate, in evaluation order. */
  readonly gates: Int32Array;
  /** Output literals (see above). */
  readonly outputs: Int32Array;
  /** Number of AND gates (each costs two ciphertexts when garbled). */
  readonly ands: number;
  /** Number of XOR gates (free). */
  readonly xors: number;
}

/** Builds a circuit gate by gate; `build()` removes dead gates and allocates slots. */
export class CircuitBuilder {
  #ops: number[] = [];
  #a: number[] = [];
  #b: number[] = [];
  /** The wire each gate drives. */
  #out: number[] = [];
  #wires = 0;
  #garblerInputs: number[] = [];
  #evaluatorInputs: number[] = [];
  #outputs: Lit[] = [];
  #memo = new Map<string, Lit>();
  /** For each wire: -1 for an input, else the index of the gate that drives it. */
  #driver: number[] = [];

  /** A new garbler (server) input bit. */
  garblerInput(): Lit {
    if (this.#ops.length > 0) throw new Error("CircuitBuilder: declare every input before the first gate");
    this.#garblerInputs.push(this.#wires);
    return this.#newWire(-1);
  }

  /** A new evaluator (client) input bit. */
  evaluatorInput(): Lit {
    if (this.#ops.length > 0) throw new Error("CircuitBuilder: declare every input before the first gate");
    this.#evaluatorInputs.push(this.#wires);
    return this.#newWire(-1);
  }

  /** `width` garbler input bits, least significant first. */
  garblerWord(width: number): Lit[] {
    return Array.from({ length: width }, () => this.garblerInput());
  }

  /** `width` evaluator input bits, least significant first. */
  evaluatorWord(width: number): Lit[] {
    return Array.from({ length: width }, () => this.evaluatorInput());
  }

  /** Marks `lit` as the next output bit. */
  output(lit: Lit): void {
    this.#outputs.push(lit);
  }

  /** NOT a (free). */
  not(a: Lit): Lit {
    return a ^ 1;
  }

  /** a XOR b (free). */
  xor(a: Lit, b: Lit): Lit {
    const neg = (a ^ b) & 1;
    a &= ~1;
    b &= ~1;
    if (a === b) return neg; // x ^ x = 0, x ^ !x = 1
    if (a === FALSE) return b | neg;
    if (b === FALSE) return a | neg;
    return this.#gate(Op.Xor, Math.min(a, b), Math.max(a, b)) ^ neg;
  }

  /** a AND b (one AND gate unless folded). */
  and(a: Lit, b: Lit): Lit {
    if (a === FALSE || b === FALSE) return FALSE;
    if (a === TRUE) return b;
    if (b === TRUE) return a;
    if (a === b) return a;
    if ((a ^ 1) === b) return FALSE;
    return this.#gate(Op.And, Math.min(a, b), Math.max(a, b));
  }

  /** a OR b (one AND gate: NOT(NOT a AND NOT b)). */
  or(a: Lit, b: Lit): Lit {
    return this.and(a ^ 1, b ^ 1) ^ 1;
  }

  /** `sel ? b : a` (one AND gate). */
  mux(sel: Lit, a: Lit, b: Lit): Lit {
    return this.xor(a, this.and(sel, this.xor(a, b)));
  }

  #newWire(driver: number): Lit {
    this.#driver.push(driver);
    return 2 * this.#wires++ + 2;
  }

  #gate(op: Op, a: Lit, b: Lit): Lit {
    const key = `${op},${a},${b}`;
    const hit = this.#memo.get(key);
    if (hit !== undefined) return hit;
    this.#ops.push(op);
    this.#a.push(a);
    this.#b.push(b);
    this.#out.push(this.#wires);
    const out = this.#newWire(this.#ops.length - 1);
    this.#memo.set(key, out);
    return out;
  }

  /** Compiles: drops gates no output depends on, then assigns slots by liveness. */
  build(): Circuit {
    const nGates = this.#ops.length;
    const wireOf = (lit: Lit) => (lit >> 1) - 1;
    // Liveness: walk back from the outputs.
    const live = new Uint8Array(nGates);
    const stack: number[] = [];
    const mark = (lit: Lit) => {
      if (lit < 2) return;
      const g = this.#driver[wireOf(lit)];
      if (g >= 0 && !live[g]) {
        live[g] = 1;
        stack.push(g);
      }
    };
    this.#outputs.forEach(mark);
    while (stack.length > 0) {
      const g = stack.pop()!;
      mark(this.#a[g]);
      mark(this.#b[g]);
    }
    // Last use of each wire, in gate order; outputs stay live to the end.
    const lastUse = new Int32Array(this.#wires).fill(-1);
    for (let g = 0; g < nGates; g++) {
      if (!live[g]) continue;
      lastUse[wireOf(this.#a[g])] = g;
      lastUse[wireOf(this.#b[g])] = g;
    }
    for (const lit of this.#outputs) if (lit >= 2) lastUse[wireOf(lit)] = nGates;
    // Slots: inputs first, in declaration order; then a free list.
    const slotOf = new Int32Array(this.#wires).fill(-1);
    const inputs = [...this.#garblerInputs, ...this.#evaluatorInputs];
    inputs.forEach((w, k) => slotOf[w] = k);
    let slots = inputs.length;
    const free: number[] = [];
    inputs.forEach((w, k) => {
      if (lastUse[w] < 0) free.push(k); // an input nothing reads
    });
    const gates: number[] = [];
    let ands = 0;
    for (let g = 0; g < nGates; g++) {
      if (!live[g]) continue;
      const a = this.#a[g], b = this.#b[g];
      const slot = free.length > 0 ? free.pop()! : slots++;
      gates.push(this.#ops[g], 2 * slotOf[wireOf(a)] + (a & 1), 2 * slotOf[wireOf(b)] + (b & 1), slot);
      slotOf[this.#out[g]] = slot;
      if (this.#ops[g] === Op.And) ands++;
      // Free the inputs whose last reader is this gate (after allocating the output, so a
      // gate never writes the slot it reads).
      for (const lit of a === b ? [a] : [a, b]) {
        const w = wireOf(lit);
        if (lastUse[w] === g) free.push(slotOf[w]);
      }
    }
    const outputs = Int32Array.from(
      this.#outputs,
      (lit) => lit < 2 ? lit : 2 * slotOf[wireOf(lit)] + 2 + (lit & 1),
    );
    return {
      garblerInputs: this.#garblerInputs.length,
      evaluatorInputs: this.#evaluatorInputs.length,
      slots,
      gates: Int32Array.from(gates),
      outputs,
      ands,
      xors: gates.length / 4 - ands,
    };
  }
}

/**
 * Evaluates a circuit in the clear on `n` instances at once. Inputs and outputs are bit
 * matrices laid out bit-major: `bits[k * n + i]` is bit k of instance i (0 or 1).
 */
export function evaluatePlain(
  circuit: Circuit,
  n: number,
  garblerBits: Uint8Array,
  evaluatorBits: Uint8Array,
): Uint8Array {
  if (
    garblerBits.length !== circuit.garblerInputs * n || evaluatorBits.length !== circuit.evaluatorInputs * n
  ) {
    throw new RangeError(
      `evaluatePlain: expected ${circuit.garblerInputs}x${n} garbler and ${circuit.evaluatorInputs}x${n} ` +
        `evaluator bits, got ${garblerBits.length} and ${evaluatorBits.length}`,
    );
  }
  const v = new Uint8Array(circuit.slots * n);
  v.set(garblerBits, 0);
  v.set(evaluatorBits, circuit.garblerInputs * n);
  const g = circuit.gates;
  for (let k = 0; k < g.length; k += 4) {
    const a = (g[k + 1] >> 1) * n, na = g[k + 1] & 1;
    const b = (g[k + 2] >> 1) * n, nb = g[k + 2] & 1;
    const o = g[k + 3] * n;
    if (g[k] === Op.Xor) {
      for (let i = 0; i < n; i++) v[o + i] = v[a + i] ^ v[b + i];
    } else {
      for (let i = 0; i < n; i++) v[o + i] = (v[a + i] ^ na) & (v[b + i] ^ nb);
    }
  }
  const out = new Uint8Array(circuit.outputs.length * n);
  circuit.outputs.forEach((lit, k) => {
    if (lit < 2) out.fill(lit, k * n, (k + 1) * n);
    else {
      const s = ((lit >> 1) - 1) * n;
      for (let i = 0; i < n; i++) out[k * n + i] = v[s + i] ^ (lit & 1);
    }
  });
  return out;
}
