import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { initBackend } from "../backend.ts";
import { assertMatchesCpu, randomTensor, runOn } from "../kernels/_test_util.ts";
import { firstLayout, isFastOnNhwc, type Route, tapPairs } from "./conv.ts";
import { nativeCalls } from "./mod.ts";

type Pad = "same" | "valid";

/** Forward output and gradients (x, filter) of sum(conv(x, w) * r) for a random r. */
function convGrads(
  [n, h, w, ci]: number[],
  co: number,
  k: number,
  s: number,
  pad: Pad,
  dilation = 1,
): tf.Tensor[] {
  const x = randomTensor([n, h, w, ci], 1) as tf.Tensor4D;
  const f = randomTensor([k, k, ci, co], 2) as tf.Tensor4D;
  const conv = (a: tf.Tensor, b: tf.Tensor) =>
    tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad, "NHWC", dilation);
  const y = conv(x, f);
  // Dilated convolutions have no backprop kernels in tfjs: their forward pass alone is checked.
  if (dilation > 1) return [y];
  const r = randomTensor(y.shape, 3);
  return [y, ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), r)))([x, f])];
}

/**
 * Asserts that `fn` matches cpu and that its convolutions ran natively on wasm: `calls` kernel calls
 * ({@link convGrads}: two forward, one of each backward). Returns the calls by route.
 */
async function assertNativeMatchesCpu(fn: () => tf.Tensor[], label: string, calls = 4) {
  const before = nativeCalls();
  await assertMatchesCpu(fn, 1e-4, label);
  const after = nativeCalls();
  const routes = Object.fromEntries(
    (Object.keys(after) as Route[]).map((r) => [r, after[r] - before[r]]),
  ) as Record<Route, number>;
  assert.equal(Object.values(routes).reduce((x, y) => x + y), calls, `${label}: native kernel calls`);
  return routes;
}

Deno.test("oneDNN is installed and its convolution kernels are registered on wasm", async () => {
  const info = await initBackend("wasm");
  assert.ok(info.native, "libdnnl.so.2 did not load: run tools/setup.sh (Debian package libdnnl2)");
  assert.match(info.native.library, /^oneDNN 2\.\d+\.\d+ \(OpenMP\)$/);
  assert.deepEqual(info.native.kernels, ["Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"]);
  assert.ok(info.native.threads >= 1);
});

Deno.test("native conv2d and its gradients match cpu for kernels 1/3, strides 1/2, same/valid, even/odd sizes", async () => {
  for (const k of [1, 3]) {
    for (const s of [1, 2]) {
      for (const pad of ["same", "valid"] as Pad[]) {
        for (const [h, w] of [[8, 8], [7, 9]]) {
          await assertNativeMatchesCpu(
            () => convGrads([2, h, w, 3], 5, k, s, pad),
            `k${k} s${s} ${pad} ${h}x${w}`,
          );
        }
      }
    }
  }
});

Deno.test("few output positions run as GEMMs per linked pair of positions (all kinds up to 4, backward-weights up to 16) and match cpu", async () => {
  // [input, out channels, kernel, stride, padding, output positions]
  const cases: [number[], number, number, number, Pad, number][] = [
    [[2, 4, 4, 6], 5, 3, 1, "same", 16],
    [[3, 5, 5, 4], 7, 3, 2, "valid", 4],
    [[2, 2, 2, 6], 5, 3, 1, "same", 4],
    [[2, 1, 1, 3], 4, 1, 1, "valid", 1],
    [[2, 5, 4, 3], 2, 1, 2, "same", 6],
    [[2, 3, 2, 5], 4, 3, 1, "same", 6],
    [[2, 5, 4, 3], 2, 3, 1, "same", 20],
  ];
  for (const [shape, co, k, s, pad, positions] of cases) {
    const routes = await assertNativeMatchesCpu(
      () => convGrads(shape, co, k, s, pad),
      `${shape} k${k} s${s} ${pad}`,
    );
    // convGrads: two forward passes, one backward-data, one backward-weights.
    const expected = positions <= 4 ? 4 : positions <= 16 ? 1 : 0;
    assert.equal(routes.positions, expected, `${shape}: calls by position pairs`);
  }
});

Deno.test("tapPairs links each output position to the input positions its taps read, leaving out the padding", () => {
  const info = (h: number, w: number, k: number, s: number, pad: Pad) =>
    tf.backend_util.computeConv2DInfo(
      [1, h, w, 1],
      [k, k, 1, 1],
      s,
      1,
      pad,
      undefined,
      false,
      "channelsLast",
    );
  // 2x2 "same" 3x3: every input position reaches every output position, 16 of the 36 taps.
  const same = tapPairs(info(2, 2, 3, 1, "same"));
  assert.equal(same.length, 16);
  assert.deepEqual(same.filter(([, o]) => o === 0), [[0, 0, 4], [1, 0, 5], [2, 0, 7], [3, 0, 8]]);
  // 5x5 "valid" 3x3 stride 2: 4 outputs x 9 taps, none in padding.
  const valid = tapPairs(info(5, 5, 3, 2, "valid"));
  assert.equal(valid.length, 36);
  assert.deepEqual(valid.find(([, o, t]) => o === 3 && t === 8), [24, 3, 8]);
});

Deno.test("activation layouts: NHWC first, except forward passes on at most 16 output positions; kept only on AVX-512 kernels", () => {
  assert.equal(firstLayout("forward", 16), "blocked");
  assert.equal(firstLayout("forward", 17), "nhwc");
  assert.equal(firstLayout("backwardData", 9), "nhwc");
  assert.equal(firstLayout("backwardWeights", 1024), "nhwc");
  for (const name of ["jit:avx512_core", "brgconv:avx512_core", "jit_1x1:avx512_core_bf16"]) {
    assert.ok(isFastOnNhwc(name), name);
  }
  for (const name of ["jit:avx2", "jit_1x1:avx2", "gemm:jit", "gemm:blas", "ref:any"]) {
    assert.ok(!isFastOnNhwc(name), name);
  }
});

Deno.test("a forward pass on 16 output positions runs blocked; other primitives run on either layout", async () => {
  await initBackend("wasm");
  // 4x4 "same": forward (twice: convGrads' own and its gradient's) blocked, backward-weights by pairs.
  const small = await assertNativeMatchesCpu(() => convGrads([2, 4, 4, 8], 8, 3, 1, "same"), "4x4");
  assert.ok(small.blocked >= 2, "forward passes on 4x4 ran blocked");
  assert.equal(small.nhwc + small.blocked, 3, "two forward, one backward-data by oneDNN");
  const large = await assertNativeMatchesCpu(() => convGrads([2, 8, 8, 16], 16, 3, 1, "same"), "8x8");
  assert.equal(large.nhwc + large.blocked, 4, "every 8x8 call ran a oneDNN primitive");
});

Deno.test("native dilated conv2d matches cpu", async () => {
  await assertNativeMatchesCpu(() => convGrads([2, 9, 9, 4], 6, 3, 1, "same", 2), "dilation 2", 1);
});

// Every convolution of CNN-7, ResNet-32 and VGG-16 ("same" padding) as [input H=W, in channels,
// out channels, kernel, stride]. Channels, kernel, stride and padding are the networks' (they decide
// oneDNN's layouts and kernels); the spatial sizes are cut to at most 8 (even, as in the networks, for
// the stride-2 padding) so that the cpu reference stays quick.
const NETWORK_CONVS: Record<string, [number, number, number, number, number][]> = {
  cnn7: [[8, 3, 64, 3, 1], [8, 64, 64, 3, 1], [8, 64, 64, 1, 1], [8, 64, 16, 1, 1]],
  resnet32: [
    [8, 3, 16, 3, 1],
    [8, 16, 16, 3, 1],
    [8, 16, 32, 3, 2],
    [8, 16, 32, 1, 2],
    [8, 32, 32, 3, 1],
    [8, 32, 64, 3, 2],
    [8, 32, 64, 1, 2],
    [8, 64, 64, 3, 1],
  ],
  vgg16: [
    [8, 3, 64, 3, 1],
    [8, 64, 64, 3, 1],
    [8, 64, 128, 3, 1],
    [4, 128, 128, 3, 1],
    [4, 128, 256, 3, 1],
    [2, 256, 256, 3, 1],
    [2, 256, 512, 3, 1],
    [2, 512, 512, 3, 1],
  ],
};

for (const [model, convs] of Object.entries(NETWORK_CONVS)) {
  Deno.test(`native conv2d and its gradients match cpu on every ${model} convolution shape`, async () => {
    for (const [hw, ci, co, k, s] of convs) {
      await assertNativeMatchesCpu(
        () => convGrads([2, hw, hw, ci], co, k, s, "same"),
        `${model} ${hw}x${hw} ${ci}->${co} k${k} s${s}`,
      );
    }
  });
}

Deno.test("native kernels stay correct after the wasm heap grows between calls", async () => {
  const conv = () => convGrads([2, 8, 8, 4], 6, 3, 2, "same");
  const want = await runOn("wasm", conv);
  const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
  const before = heap();
  // More than the heap holds: the WebAssembly memory grows, which detaches every earlier view.
  const big = tf.zeros([before.byteLength / 4]);
  assert.equal(before.byteLength, 0, "the heap did not grow");
  const got = await runOn("wasm", conv);
  big.dispose();
  got.forEach((g, i) => assert.deepEqual(g.values, want[i].values, `output ${i}`));
});

Deno.test("without libdnnl the wasm kernels run, after a one-line notice, and match cpu", async () => {
  const test = fileURLToPath(new URL("../kernels/conv2d_grad_test.ts", import.meta.url));
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    // Not --quiet: it hides what tests print.
    args: ["test", "-A", test],
    cwd: fileURLToPath(new URL("../../../", import.meta.url)), // the repository, for deno.json
    env: { SAFENET_DNNL_LIBRARY: "/nonexistent/libdnnl.so.2", NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, out);
  const notices = out.split("\n").filter((l) => l.startsWith("native kernels off ("));
  assert.equal(notices.length, 1, out);
  assert.match(notices[0], /\/nonexistent\/libdnnl\.so\.2/);
});
