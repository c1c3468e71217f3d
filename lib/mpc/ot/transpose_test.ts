import assert from "node:assert/strict";
import { transposeColumns } from "./transpose.ts";
import { Prg } from "../prg.ts";

Deno.test("transposeColumns matches the bit-by-bit definition", () => {
  for (const words of [1, 3, 8]) {
    const cols = new Prg(new Uint8Array(16).fill(words)).int32s(128 * words);
    const rows = transposeColumns(cols, words);
    for (let i = 0; i < 128; i++) {
      for (let j = 0; j < 32 * words; j++) {
        const a = (cols[i * words + (j >> 5)] >>> (j & 31)) & 1;
        const b = (rows[4 * j + (i >> 5)] >>> (i & 31)) & 1;
        if (a !== b) assert.fail(`bit (${i}, ${j}) differs`);
      }
    }
  }
  assert.throws(() => transposeColumns(new Int32Array(10), 1), /128 x 1 words/);
});
