/**
 * `deno task lab`: the notebook server starts on a free port, offers the project's Deno kernel,
 * serves plotly.js to charts, opens the tour in headless Chromium without errors (starting its
 * Deno kernel), and stops cleanly on Ctrl-C.
 */
import assert from "node:assert/strict";
import { loadPage } from "../lib/report/chromium.ts";
import { JUPYTER_DIR } from "../lib/report/jupyter.ts";
import { LAB_PLOTLY_URL } from "../lib/report/chart.ts";
import { DenoProcess } from "./testdata/process.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Sends a kernel_info_request through the notebook server's websocket; resolves with the reply's content. */
function kernelInfo(url: string): Promise<{ implementation: string; language_info: { name: string } }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(
      () => (socket.close(), reject(new Error("no kernel_info_reply within 60 s"))),
      60_000,
    );
    socket.onerror = () => reject(new Error(`websocket error on ${url}`));
    socket.onopen = () =>
      socket.send(JSON.stringify({
        header: {
          msg_id: crypto.randomUUID(),
          session: crypto.randomUUID(),
          username: "test",
          msg_type: "kernel_info_request",
          version: "5.3",
        },
        parent_header: {},
        metadata: {},
        content: {},
        channel: "shell",
        buffers: [],
      }));
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.msg_type !== "kernel_info_reply") return;
      clearTimeout(timer);
      socket.close();
      resolve(msg.content);
    };
  });
}

Deno.test("lab: the Deno kernelspec, plotly.js and the tour's page, then a clean stop", async () => {
  const port = freePort();
  const lab = new DenoProcess("tools/lab.ts", ["--port", String(port)]);
  try {
    const [url, base, token] = await lab.waitFor(/(http:\/\/127\.0\.0\.1:\d+)\/tree\?token=([0-9a-f]+)/);
    assert.equal(url, `http://127.0.0.1:${port}/tree?token=${token}`);
    const api = async (path: string) => {
      const response = await fetch(`${base}${path}?token=${token}`);
      assert.equal(response.status, 200, path);
      return await response.json();
    };

    const specs = await api("/api/kernelspecs");
    assert.equal(specs.default, "deno", "new notebooks get the Deno kernel");
    assert.equal(specs.kernelspecs.deno.spec.display_name, "Deno (SAFENet Lab)");
    assert.equal(
      specs.kernelspecs.deno.spec.argv[0],
      "{resource_dir}/../../../deno",
      "no absolute path in it",
    );
    assert.ok(Deno.statSync(`${JUPYTER_DIR}/kernels/deno/../../../deno`).isFile, "it runs tools/deno");

    const plotly = await fetch(`${base}/${LAB_PLOTLY_URL}`);
    assert.equal(plotly.status, 200);
    assert.match((await plotly.text()).slice(0, 100), /plotly\.js v3/);

    const page = await loadPage(`${base}/notebooks/00_tour.ipynb?token=${token}`, { budgetMs: 15_000 });
    assert.match(page.dom, /<h1[^>]*>SAFENet Lab: a quick tour/, "the tour's markdown rendered");
    const tour = JSON.parse(await Deno.readTextFile("notebooks/00_tour.ipynb"));
    const codeCells = tour.cells.filter((c: { cell_type: string }) => c.cell_type === "code").length;
    assert.equal(page.dom.match(/class="cell code_cell/g)?.length, codeCells, "its code cells are there");
    const errors = page.console.filter((line) => /Uncaught|Error/.test(line));
    assert.deepEqual(errors, [], "no errors on the page's console");

    // Opening the page started the tour's kernel, the Deno one; it answers over the server.
    const [session] = await api("/api/sessions");
    assert.equal(session.path, "00_tour.ipynb");
    assert.equal(session.kernel.name, "deno");
    const info = await kernelInfo(
      `${base.replace("http", "ws")}/api/kernels/${session.kernel.id}/channels?token=${token}`,
    );
    assert.equal(info.language_info.name, "typescript");
    assert.equal(info.implementation, "Deno kernel");
  } finally {
    lab.interrupt();
  }
  assert.equal(await lab.exitCode(30_000), 0, lab.output);
  assert.match(lab.output, /Shutting down 1 kernel/);
});
