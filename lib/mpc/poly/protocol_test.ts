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
import { IknpReceiver, IknpSender } from "../ot/iknp.ts";
import {
  CORRECTION_KIND,
  elementStatisticalDistance,
  MASKED_KIND,
  POLY_OFFLINE_ROUND_TRIPS,
  POLY_ONLINE_ROUND_TRIPS,
  polyOfflineClient,
  polyOfflineServer,
  polyOnlineClient,
  polyOnlineServer,
  type PolyOptions,
} from "./protocol.ts";
import { liftConstants, Q, Q2, RING } from "./ring.ts";

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

/**
 * Runs the whole protocol on real inputs ys (or field inputs y with the server's shares
 * `serverShares`); returns the server's view and the reconstructed output.
 */
async function run(
  degree: PolyDegree,
  ys: number[] | { y: Float64Array; serverShares: Float64Array },
  coeffs: number[][],
  options: PolyOptions,
  useHe: boolean,
) {
  const layout = { degree, inFracBits: 16, outFracBits: 8 };
  const y = Array.isArray(ys) ? encodeFixed(ys, 16) : ys.y;
  const { server: s, client: c } = Array.isArray(ys)
    ? share(y, prg)
    : { server: ys.serverShares, client: Fp.subVec(y, ys.serverShares) };
  const n = y.length;
  const nextMask = Fp.random(n, prg);
  const perElement = coeffs[0].map((_, k) => Float64Array.from(y, (_, i) => coeffs[i % coeffs.length][k]));
  const [cch, sch0] = memoryChannelPair();
  const sch = new Recording(sch0);
  const [clientOt, serverOt] = await Promise.all([IknpSender.setup(cch, prg), IknpReceiver.setup(sch, prg)]);
  let keys = null, he = null;
  if (useHe) {
    const [hp, hq, hq2] = await Promise.all([heContext(Fp.p), heContext(Q), heContext(Q2)]);
    keys = { p: heKeys(hp), q: heKeys(hq), q2: heKeys(hq2) };
    he = {
      p: answerKey(hp, keys.p.publicKey),
      q: answerKey(hq, keys.q.publicKey),
      q2: answerKey(hq2, keys.q2.publicKey),
    };
  }
  cch.setPhase("offline");
  const [cs, ss] = await Promise.all([
    polyOfflineClient(cch, keys, clientOt, layout, c, nextMask, prg, options),
    polyOfflineServer(sch, he, serverOt, layout, perElement, prg, options),
  ]);
  if (keys) {
    for (const key of [keys.p, keys.q, keys.q2]) disposeKeys(key);
    for (const key of [he!.p, he!.q, he!.q2]) disposeAnswerKey(key);
  }
  cch.setPhase("online");
  const [, z] = await Promise.all([polyOnlineClient(cch, cs), polyOnlineServer(sch, ss, s)]);
  const { phases } = cch.stats();
  cch.close();
  sch0.close();
  return { out: Fp.addVec(z, nextMask), y, perElement, view: sch.received, layout, phases };
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
    const { out, y, perElement, phases } = await run(
      degree,
      ys,
      coeffs3.map((c) => c.slice(0, degree + 1)),
      {},
      true,
    );
    assertWithinTruncation(degree, out, y, perElement);
    // The cost model's round trips are the protocol's (degree 0 sends its mask and waits for nothing).
    if (degree > 0) {
      assert.equal(phases.offline.roundTrips, POLY_OFFLINE_ROUND_TRIPS);
      assert.equal(phases.online.roundTrips, POLY_ONLINE_ROUND_TRIPS);
    }
  });
}

Deno.test("poly: adversarial input shares (lift boundaries, |y| up to the bound) stay within truncation", async () => {
  const coeffs = [[0.2, 0.5, 0.2, 0.01], [-0.1, 1.0, -0.3, 0.05]];
  for (const degree of [1, 2, 3] as PolyDegree[]) {
    const k = resolvePolyLayout({ degree, inFracBits: 16, outFracBits: 8 }).inShift;
    const { offsetHigh, half } = liftConstants(k);
    const offset = offsetHigh * 2 ** k;
    // Degree 1 takes |y| right up to the lift's bound p/4 - 2^k; higher degrees to where X fits.
    const top = degree === 1 ? Math.floor(Fp.p / 4) - 2 ** k - 1 : 2 ** 16 * 60;
    const ys = [0, 1, -1, 2 ** k - 1, -(2 ** k), 2 ** 16 * 3, -(2 ** 16) * 3, top, -top, top - 1, 1 - top];
    const special = [
      0,
      1,
      Fp.p - 1,
      half - 1,
      half,
      half + 1,
      half - offset,
      half - offset - 1,
      Fp.p - offset,
    ];
    const y: number[] = [], s: number[] = [];
    for (const v of ys) {
      const field = Fp.fromSigned(v);
      // The server's share at a boundary, or the client's (s = y - boundary).
      for (const b of special) y.push(field, field), s.push(b, Fp.sub(field, b));
    }
    const { out, y: yf, perElement } = await run(
      degree,
      { y: Float64Array.from(y), serverShares: Float64Array.from(s) },
      coeffs.map((c) => c.slice(0, degree + 1)),
      { insecureTrustedDealer: true },
      false,
    );
    assertWithinTruncation(degree, out, yf, perElement);
  }
});

Deno.test("poly: what the server receives is uniform whatever the input (chi-squared on low bits)", async () => {
  const n = 8000;
  const ys = new Array(n).fill(1.5); // one fixed activation value
  const { view } = await run(3, ys, [[0.1, 0.5, 0.2, 0.03]], { insecureTrustedDealer: true }, false);
  for (const kind of [CORRECTION_KIND, MASKED_KIND]) {
    const bytes = view.get(kind)![0];
    // Every residue vector, 6 bytes per element (delta and the answer for the masked message):
    // histogram of the lowest 4 bits.
    const counts = new Array(16).fill(0);
    for (let i = 0; i < bytes.length; i += 6) counts[bytes[i] & 15]++;
    const e = bytes.length / 6 / 16;
    const chi2 = counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
    assert.ok(chi2 < 37.7, `${kind}: chi-squared ${chi2.toFixed(1)}, 15 dof (p = 0.001)`);
  }
});

Deno.test("poly: statistical distance per element is |X| / L plus the OT pads' bias", () => {
  const layout = { degree: 2 as const, inFracBits: 18, outFracBits: 9 };
  // T = 49 fractional bits, L ~ 2^122.9: about 2^-63.9 for activations up to 2^10.
  const sd = elementStatisticalDistance(layout, 2 ** 10);
  assert.ok(Math.log2(sd) > -64.2 && Math.log2(sd) < -63.6, `log2 ${Math.log2(sd)}`);
  assert.equal(elementStatisticalDistance({ ...layout, degree: 0 }, 2 ** 10), 0);
  assert.ok(elementStatisticalDistance(layout, 0) < RING.length * 2 ** -86);
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
