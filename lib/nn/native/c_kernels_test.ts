import assert from "node:assert/strict";

Deno.test("C kernels: builders racing on an empty cache (processes and workers) all load one complete library", async () => {
  const home = await Deno.makeTempDir();
  try {
    // Each process starts two workers that build and open the library at once, then opens it itself.
    const script = `
      const url = ${JSON.stringify(new URL("./masked.ts", import.meta.url).href)};
      const worker = () => new Promise((resolve, reject) => {
        const w = new Worker("data:application/javascript," + encodeURIComponent(
          "import { maskedNative } from '" + url + "'; self.postMessage(maskedNative() !== null);"),
          { type: "module" });
        w.onmessage = (e) => { w.terminate(); resolve(e.data); };
        w.onerror = (e) => { e.preventDefault(); w.terminate(); reject(new Error(e.message)); };
      });
      const inWorkers = await Promise.all([worker(), worker()]);
      const { maskedNative } = await import(url);
      console.log(JSON.stringify([...inWorkers, maskedNative() !== null]));
    `;
    const runs = await Promise.all(
      [0, 1, 2].map(() =>
        new Deno.Command(Deno.execPath(), {
          args: ["eval", "--ext=ts", script],
          env: { HOME: home },
          stdout: "piped",
          stderr: "piped",
        }).output()
      ),
    );
    for (const r of runs) {
      const err = new TextDecoder().decode(r.stderr);
      assert.ok(r.success, err);
      assert.doesNotMatch(err, /native masked activation off/);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(r.stdout)), [true, true, true]);
    }
    const files = [...Deno.readDirSync(`${home}/.cache/safenet/native`)].map((e) => e.name);
    assert.equal(files.length, 1, files.join());
    assert.match(files[0], /^masked_activation-[0-9a-f]{16}\.so$/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
