import assert from "node:assert/strict";
import { dumpDom } from "../lib/report/chromium.ts";
import { PLOTLY_MIME } from "../lib/report/chart.ts";
import { REPO_ROOT } from "../lib/data/locate.ts";
import { findPython, listNotebooks, renderNotebook } from "./render.ts";
import { withTempDir } from "../lib/data/testdata/temp_dir.ts";

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: Output[];
}

/** nbformat stores multi-line strings as lists of lines. */
function joined(text: unknown): string {
  return Array.isArray(text) ? text.join("") : String(text ?? "");
}

async function readCells(path: string): Promise<Cell[]> {
  return JSON.parse(await Deno.readTextFile(path)).cells;
}

/** A notebook for the Deno kernel with the given code cells, in a fresh directory. */
async function scratchNotebook(dir: string, cells: string[]): Promise<string> {
  const path = `${dir}/scratch.ipynb`;
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    cells: cells.map((source, i) => ({
      id: `c${i}`,
      cell_type: "code",
      metadata: {},
      source,
      outputs: [],
      execution_count: null,
    })),
  };
  await Deno.writeTextFile(path, JSON.stringify(nb));
  return path;
}

Deno.test("render: the fig2 notebook runs with every output kept, and its chart draws in Chromium", async () => {
  await withTempDir(async (outDir) => {
    const { ipynb, html } = await renderNotebook(`${REPO_ROOT}/notebooks/fig2_relu_distribution.ipynb`, {
      outDir,
    });
    const code = (await readCells(ipynb)).filter((c) => c.cell_type === "code");
    for (const [i, cell] of code.entries()) {
      assert.equal(typeof cell.execution_count, "number", `code cell ${i} ran`);
      // Every code cell of this notebook shows a table or a chart: none may come back empty.
      assert.ok(cell.outputs!.length >= 1, `code cell ${i} kept its output`);
      assert.ok(cell.outputs!.every((o) => o.output_type !== "error"));
    }
    assert.ok(
      code.some((c) => c.outputs!.some((o) => o.data?.[PLOTLY_MIME])),
      "the plotly bundle is in the notebook",
    );

    const page = await Deno.readTextFile(html);
    assert.doesNotMatch(page, /<script[^>]*\bsrc\s*=/i, "the rendered HTML loads no external script");
    // The comparison with the paper is computed in the notebook, not typed in.
    assert.match(page, /ours: first layer<\/td><td[^>]*>65,536<\/td><td[^>]*>37\.9</);

    const dom = await dumpDom(`file://${html}`);
    const plot = dom.slice(dom.indexOf('class="safenet-plotly'));
    assert.match(plot, /<svg class="main-svg"/, "plotly drew an SVG inside the chart div");
    assert.equal(plot.match(/class="trace bars"/g)?.length, 3, "three bar traces (CNN-7, VGG-16, ResNet-32)");
    assert.equal(plot.match(/class="point"/g)?.length, 7 + 14 + 31, "one bar per activation layer");
  });
});

Deno.test("render: a failing cell fails the render, naming the cell and its error", async () => {
  await withTempDir(async (dir) => {
    const notebook = await scratchNotebook(dir, [
      "1 + 1",
      'throw new Error("deliberate failure")',
      '"never runs"',
    ]);
    await assert.rejects(
      renderNotebook(notebook, { outDir: dir }),
      (e: Error) => {
        assert.match(e.message, /cell 1 failed with Error: deliberate failure/);
        assert.match(e.message, /--- cell source ---\nthrow new Error\("deliberate failure"\)/);
        return true;
      },
    );
    const cells = await readCells(`${dir}/scratch.ipynb`);
    assert.equal(cells[0].outputs!.length, 1);
    assert.equal(cells[1].outputs![0].output_type, "error");
    assert.deepEqual(cells[2].outputs, [], "cells after the failure do not run");
  });
});

Deno.test("render: large displays and output printed after a cell returns are kept", async () => {
  await withTempDir(async (dir) => {
    const big = 'await Deno.jupyter.display({ "text/plain": "x".repeat(8_000_000) }, { raw: true });';
    const notebook = await scratchNotebook(dir, [
      big,
      big,
      'setTimeout(() => console.log("printed after the cell returned"), 300); "last"',
    ]);
    const { ipynb } = await renderNotebook(notebook, { outDir: dir });
    const cells = await readCells(ipynb);
    for (const i of [0, 1]) {
      assert.equal(joined(cells[i].outputs![0].data!["text/plain"]).length, 8_000_000, `cell ${i}`);
    }
    const last = cells[2].outputs!.map((o) => joined(o.text ?? o.data?.["text/plain"])).join("");
    assert.match(last, /printed after the cell returned/);
  });
});

Deno.test("render: listNotebooks finds the notebooks but not rendered output", async () => {
  const found = await listNotebooks();
  assert.ok(found.some((p) => p.endsWith("/notebooks/fig2_relu_distribution.ipynb")));
  assert.ok(found.every((p) => !p.includes("/rendered/")));
});

Deno.test("render: a Python without Jupyter is reported with the Debian packages to install", async () => {
  const saved = Deno.env.get("SAFENET_PYTHON");
  Deno.env.set("SAFENET_PYTHON", "/nonexistent/python3");
  try {
    await assert.rejects(
      findPython(),
      /apt-get install jupyter-client jupyter-core jupyter-nbconvert python3-nbclient/,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("SAFENET_PYTHON");
    else Deno.env.set("SAFENET_PYTHON", saved);
  }
});
