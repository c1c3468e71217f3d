import assert from "node:assert/strict";
import type { Channel, Phase } from "../channel.ts";
import { Fp } from "../field.ts";
import { decodeFixed, encodeFixed } from "../fixed.ts";
import { Prg } from "../prg.ts";
import { share } from "../sharing.ts";
import { memoryChannelPair } from "../transport.ts";
import { answerKey, disposeAnswerKey } from "../he/answer.ts";
import { disposeKeys, heContext, heKeys } from "../he/seal.ts";
import { type PolyDegree, polyReference, resolvePolyLayout } from "./layout.ts";
import {
  DELTA_KIND,
  MASKED_KIND,
  polyOfflineClient,
  polyOfflineServer,
  polyOnlineClient,
  polyOnlineServer,
  type PolyOptions,
} from "./protocol.ts";
import { Q } from "./ring.ts";

const prg = new Prg(new Uint8Array(16).fill(61));

/** A channel that records every payload it receives, by kind. */
class Recording implements Channel {
  readonly received = new Map<string, Uint8Array[]>();
  constructor(private readonly inner: Channel) {}
  send(kind: string, payload: Uint8Array) {
    return this.inner.send(kind, payload);
  }
  async recv(kind: string) {
    const v = await this.inner.recv(kind);
    this.received.set(kind, [...(this.received.get(kind) ?? []), v]);
    return v;
  }
  setPhase(phase: Phase) {
    this.inner.setPhase(phase);
  }
}

/** Runs the whole protocol on real inputs ys; returns the server's view and the reconstructed output. */
async function run(
  degree: PolyDegree,
  ys: number[],
  coeffs: number[][],
  options: PolyOptions,
  useHe: boolean,
) {
  const layout = { degree, inFracBits: 16, outFracBits: 8 };
  const y = encodeFixed(ys, 16);
  const { server: s, client: c } = share(y, prg);
  const nextMask = Fp.random(ys.length, prg);
  const perElement = coeffs[0].map((_, k) => Float64Array.from(ys, (_, i) => coeffs[i % coeffs.length][k]));
  const [cch, sch0] = memoryChannelPair();
  const sch = new Recording(sch0);
  let keys = null, he = null;
  if (useHe) {
    const [hp, hq] = await Promise.all([heContext(Fp.p), heContext(Q)]);
    keys = { p: heKeys(hp), q: heKeys(hq) };
    he = { p: answerKey(hp, keys.p.publicKey), q: answerKey(hq, keys.q.publicKey) };
  }
  const [cs, ss] = await Promise.all([
    polyOfflineClient(cch, keys, layout, c, nextMask, prg, options),
    polyOfflineServer(sch, he, layout, perElement, prg, options),
  ]);
  if (keys) {
    disposeKeys(keys.p);
    disposeKeys(keys.q);
    disposeAnswerKey(he!.p);
    disposeAnswerKey(he!.q);
  }
  const [, z] = await Promise.all([polyOnlineClient(cch, cs), polyOnlineServer(sch, ss, s)]);
  cch.close();
  sch0.close();
  return { out: Fp.addVec(z, nextMask), y, perElement, view: sch.received, layout };
}

/** Asserts each output is one of the four values the protocol's two truncations allow. */
function assertWithinTruncation(
  degree: PolyDegree,
  out: Float64Array,
  y: Float64Array,
  perElement: Float64Array[],
) {
  const l = resolvePolyLayout({ degree, inFracBits: 16, outFracBits: 8 });
  const layout = { degree, inFracBits: 16, outFracBits: 8 };
  const ref = polyReference(layout, perElement, y);
  const yMore = Fp.addVec(y, new Float64Array(y.length).fill(2 ** l.inShift));
  const refMore = degree === 0 || l.inShift === 0 ? ref : polyReference(layout, perElement, yMore);
  for (let i = 0; i < out.length; i++) {
    const ok = [ref[i], Fp.add(ref[i], 1), refMore[i], Fp.add(refMore[i], 1)].includes(out[i]);
    assert.ok(ok, `element ${i}: got ${Fp.toSigned(out[i])}, reference ${Fp.toSigned(ref[i])}`);
  }
}

const coeffs3 = [[0.2, 0.5, 0.2, 0.01], [-0.1, 1.0, -0.3, 0.05], [0.3, 0.25, 0.1, -0.02]];

for (const degree of [0, 1, 2, 3] as PolyDegree[]) {
  Deno.test(`poly degree ${degree} (insecure dealer): matches the fixed-point reference within truncation`, async () => {
    const ys = Array.from({ length: 3000 }, (_, i) => 6 * Math.sin(i * 0.37) + (i % 7) - 3);
    const coeffs = coeffs3.map((c) => c.slice(0, degree + 1));
    const { out, y, perElement } = await run(degree, ys, coeffs, { insecureTrustedDealer: true }, false);
    assertWithinTruncation(degree, out, y, perElement);
    // And the real-valued polynomial, within the error bound documented in layout.ts.
    const l = resolvePolyLayout({ degree, inFracBits: 16, outFracBits: 8 });
    const got = decodeFixed(out, 8);
    ys.forEach((v, i) => {
      const c = coeffs[i % 3];
      const want = c.reduce((acc, ck, k) => acc + ck * v ** k, 0);
      const slope = c.reduce(
        (acc, ck, k) => acc + k * Math.abs(ck) * (Math.abs(v) + 1) ** Math.max(0, k - 1),
        0,
      );
      const rounding = c.reduce(
        (acc, _, k) => acc + 0.5 * (Math.abs(v) + 1) ** k * 2 ** (k * l.inputBits - l.sumBits),
        0,
      );
      const bound = 2 ** -8 + slope * (2 ** (1 - l.inputBits) + 2 ** -17) + rounding;
      assert.ok(Math.abs(got[i] - want) <= bound, `element ${i}: ${got[i]} vs ${want} (bound ${bound})`);
    });
  });
}

for (const degree of [2, 3] as PolyDegree[]) {
  Deno.test(`poly degree ${degree} with HE correlations: exact within truncation`, async () => {
    const ys = Array.from({ length: 300 }, (_, i) => 4 * Math.cos(i) - 0.5);
    const { out, y, perElement } = await run(
      degree,
      ys,
      coeffs3.map((c) => c.slice(0, degree + 1)),
      {},
      true,
    );
    assertWithinTruncation(degree, out, y, perElement);
  });
}

Deno.test("poly: what the server receives is uniform whatever the input (chi-squared on low bits)", async () => {
  const n = 8000;
  const ys = new Array(n).fill(1.5); // one fixed activation value
  const { view } = await run(3, ys, [[0.1, 0.5, 0.2, 0.03]], { insecureTrustedDealer: true }, false);
  for (const kind of [DELTA_KIND, MASKED_KIND]) {
    const bytes = view.get(kind)![0];
    // First residue vector (mod p), 6 bytes per element: histogram of the lowest 4 bits.
    const counts = new Array(16).fill(0);
    for (let i = 0; i < n; i++) counts[bytes[6 * i] & 15]++;
    const e = n / 16;
    const chi2 = counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
    assert.ok(chi2 < 37.7, `${kind}: chi-squared ${chi2.toFixed(1)}, 15 dof (p = 0.001)`);
  }
});

Deno.test("poly: layout defaults and checks", () => {
  const l3 = resolvePolyLayout({ degree: 3, inFracBits: 16, outFracBits: 8 });
  assert.deepEqual([l3.inputBits, l3.sumBits, l3.inShift, l3.outShift], [11, 48, 5, 40]);
  const l2 = resolvePolyLayout({ degree: 2, inFracBits: 16, outFracBits: 8 });
  assert.equal(l2.inputBits, 16);
  assert.throws(
    () => resolvePolyLayout({ degree: 3, inFracBits: 16, outFracBits: 8, inputBits: 17 }),
    /inputBits/,
  );
  assert.throws(
    () => resolvePolyLayout({ degree: 4 as PolyDegree, inFracBits: 16, outFracBits: 8 }),
    /degree/,
  );
});
