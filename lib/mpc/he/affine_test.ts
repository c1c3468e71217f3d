import assert from "node:assert/strict";
import { Fp, PrimeField } from "../field.ts";
import { Prg } from "../prg.ts";
import { memoryChannelPair } from "../transport.ts";
import { affineClient, affineServer } from "./affine.ts";
import { answerKey, disposeAnswerKey } from "./answer.ts";
import { disposeKeys, heContext, heKeys } from "./seal.ts";

const prg = new Prg(new Uint8Array(16).fill(41));

for (const t of [Fp.p, 2168958484481]) {
  Deno.test(`HE affine (t = ${t}): client gets lambda0 + sum lambda_i v_i - sigma, across chunks`, async () => {
    const F = new PrimeField(t);
    const he = await heContext(t);
    const keys = heKeys(he);
    const key = answerKey(he, keys.publicKey);
    const n = 8191 + 5, d = 2, outputs = 3;
    const v = [F.random(n, prg), F.random(n, prg)];
    // Row 1 has an all-zero (secret) coefficient, row 2 a public zero (null).
    const lambda = [
      [F.random(n, prg), F.random(n, prg), F.random(n, prg)],
      [F.random(n, prg), new Float64Array(n), F.random(n, prg)],
      [F.random(n, prg), F.random(n, prg), null],
    ];
    const sigma = [F.random(n, prg), F.random(n, prg), F.random(n, prg)];
    const [ch, sh] = memoryChannelPair();
    const [out] = await Promise.all([
      affineClient(ch, keys, v, outputs, prg),
      affineServer(sh, key, lambda, sigma, prg),
    ]);
    disposeKeys(keys);
    disposeAnswerKey(key);
    for (let m = 0; m < outputs; m++) {
      for (const i of [0, 1, 8190, 8191, n - 1]) {
        let want = F.sub(lambda[m][0]![i], sigma[m][i]);
        for (let j = 0; j < d; j++) want = F.add(want, F.mul(lambda[m][j + 1]?.[i] ?? 0, v[j][i]));
        assert.equal(out[m][i], want, `output ${m} element ${i}`);
      }
    }
    ch.close();
    sh.close();
  });
}
