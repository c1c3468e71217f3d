import assert from "node:assert/strict";
import { DNNL, Dnnl, Plan } from "./dnnl.ts";

/** A 1x1 convolution of a [1, 2, 1, 1] image with 2 -> 1 channels, planned on `dnnl`. */
function plan(dnnl: Dnnl): Plan {
  const [src, weights, dst] = [[1, 2, 1, 1], [1, 2, 1, 1], [1, 1, 1, 1]];
  const g = { strides: [1, 1], dilates: [0, 0], padL: [0, 0], padR: [0, 0] };
  const any = {
    src: dnnl.md(src, DNNL.tag.any),
    weights: dnnl.md(weights, DNNL.tag.any),
    dst: dnnl.md(dst, DNNL.tag.any),
  };
  return new Plan(dnnl, dnnl.convolution("forward", any, g), [
    { arg: DNNL.arg.src, query: DNNL.query.src, user: dnnl.md(src, DNNL.tag.nhwc) },
    { arg: DNNL.arg.weights, query: DNNL.query.weights, user: dnnl.md(weights, DNNL.tag.hwio) },
    { arg: DNNL.arg.dst, query: DNNL.query.dst, user: dnnl.md(dst, DNNL.tag.nhwc), output: true },
  ]);
}

Deno.test("a plan computes on views over WebAssembly memory and rejects views detached by its growth", () => {
  const dnnl = Dnnl.open("libdnnl.so.2", 1);
  const p = plan(dnnl);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const views = () => [0, 8, 16].map((offset) => new Float32Array(memory.buffer, offset, 2));
  const [x, w] = views();
  x.set([1, 2]);
  w.set([3, 4]);
  const stale = views();
  memory.grow(1);
  assert.throws(() => p.run(stale), /plan argument 0: 0 bytes, needs 8/);
  const fresh = views();
  p.run(fresh);
  assert.equal(fresh[2][0], 1 * 3 + 2 * 4);
});

Deno.test("a plan rejects a buffer shorter than its memory descriptor", () => {
  const p = plan(Dnnl.open("libdnnl.so.2", 1));
  assert.throws(
    () => p.run([new Float32Array(2), new Float32Array(1), new Float32Array(1)]),
    /plan argument 1: 4 bytes, needs 8/,
  );
});

Deno.test("opening a library that is not there fails with the loader's reason", () => {
  assert.throws(() => Dnnl.open("/nonexistent/libdnnl.so.2", 1), /nonexistent\/libdnnl\.so\.2/);
});

Deno.test("a primitive descriptor names the implementation oneDNN chose", () => {
  const dnnl = Dnnl.open("libdnnl.so.2", 1);
  const md = (dims: number[]) => dnnl.md(dims, DNNL.tag.any);
  const g = { strides: [1, 1], dilates: [0, 0], padL: [1, 1], padR: [1, 1] };
  const pd = dnnl.convolution("forward", {
    src: md([2, 16, 8, 8]),
    weights: md([16, 16, 3, 3]),
    dst: md([2, 16, 8, 8]),
  }, g);
  try {
    // e.g. "jit:avx512_core", "jit:avx2", "gemm:jit", "ref:any"
    assert.match(dnnl.implementation(pd), /^[a-z_0-9]+:[a-z_0-9]+/);
  } finally {
    dnnl.destroy(pd);
  }
});
