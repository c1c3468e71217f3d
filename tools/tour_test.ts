/**
 * The tour on a real Deno kernel, driven by jupyter_client (tools/execute_notebook.py through
 * `renderNotebook`): its cells' outputs (tables, chart bundles, the secure inference's class),
 * plus what a researcher gets wrong: a DataFrame as a cell's last value, a show call without
 * `await`; and the profile a render passes to the notebook.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../lib/data/locate.ts";
import { PLOTLY_MIME } from "../lib/report/chart.ts";
import { renderNotebook } from "./render.ts";

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string | string[];
}
interface Cell {
  cell_type: string;
  id?: string;
  source: string | string[];
  outputs?: Output[];
}

/** nbformat stores multi-line strings as lists of lines. */
function text(value: unknown): string {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}

/** Cells appended to the tour: mistakes that must still show the right thing. */
const EXTRA_CELLS = [
  // A show call left un-awaited as the cell's last value.
  'lab.showMarkdown("shown without await")',
  // One left un-awaited before other statements.
  'lab.showTable(lab.tableFromRows([{ note: "un-awaited table" }]));\n"after it"',
  // The profile the render was given.
  "await lab.showMarkdown(`profile: ${lab.profile()}`);",
];

Deno.test("tour: on a real kernel, every cell shows its table, chart or class; mistakes still display", async () => {
  const tour = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "notebooks", "00_tour.ipynb")));
  // The scratch copy lives below the repository (for deno.json's npm setup), so its imports are absolute.
  const dir = await Deno.makeTempDir({
    dir: join(REPO_ROOT, "notebooks", "rendered"),
    prefix: ".tour-test-",
  });
  try {
    const cells: Cell[] = [
      ...tour.cells.map((c: Cell) => ({
        ...c,
        source: text(c.source).replaceAll('"../lib/', `"${REPO_ROOT}/lib/`),
      })),
      ...EXTRA_CELLS.map((source, i) => ({
        cell_type: "code",
        id: `extra-${i}`,
        source,
        metadata: {},
        outputs: [],
        execution_count: null,
      })),
    ];
    await Deno.writeTextFile(join(dir, "tour.ipynb"), JSON.stringify({ ...tour, cells }));
    const { ipynb, html } = await renderNotebook(join(dir, "tour.ipynb"), { outDir: dir, profile: "smoke" });
    const code = (JSON.parse(await Deno.readTextFile(ipynb)).cells as Cell[]).filter((c) =>
      c.cell_type === "code"
    );
    const outputs = (fragment: string) => code.find((c) => text(c.source).includes(fragment))!.outputs!;
    const results = (fragment: string) => outputs(fragment).filter((o) => o.output_type === "execute_result");
    const shown = (fragment: string, mime: string) =>
      outputs(fragment).filter((o) => o.data?.[mime] !== undefined).map((o) => o.data![mime]);

    // A DataFrame as a cell's last value is a table.
    const planTable = text(results("lab.planTable")[0].data!["text/html"]);
    assert.match(planTable, /^<table class="safenet-table">.*<th>polynomial neurons<\/th>/s);
    assert.match(planTable, /<td[^>]*>act7<\/td>/);
    assert.match(text(results("lab.priceSummaryTable")[0].data!["text/html"]), />all ReLU</);
    // Charts are plotly bundles whose HTML leaves plotly.js to the page.
    const [images] = shown("lab.imagesChart", PLOTLY_MIME) as { data: { type: string }[] }[];
    assert.equal(images.data[0].type, "image");
    assert.equal(shown("lab.planChart", PLOTLY_MIME).length, 1);
    assert.ok(text(shown("lab.planChart", "text/html")[0]).length < 10_000);
    assert.match(
      text(shown("model.accuracy", "text/markdown")[0]),
      /\*\*\d+\.\d%\*\* correct on the first 200 test images/,
    );
    // The secure inference's class, and its per-layer table.
    const secure = text(shown("model.secureInference", "text/markdown")[0]);
    assert.match(secure, /predicted \w+ \(\d\), true label cat \(3\)/);
    assert.match(text(results("model.secureInference")[0].data!["text/html"]), /act1.*dense1.*total/s);

    // Without await: shown once, and no `Promise { ... }` anywhere.
    assert.deepEqual(shown("shown without await", "text/markdown").map(text), ["shown without await"]);
    assert.match(text(shown("un-awaited table", "text/html")[0]), /un-awaited table/);
    assert.match(text(results("un-awaited table")[0].data!["text/plain"]), /after it/);
    for (const cell of code) {
      for (const o of cell.outputs!) {
        assert.doesNotMatch(text(o.data?.["text/plain"] ?? o.text), /Promise \{/);
      }
    }
    assert.deepEqual(shown("lab.profile()", "text/markdown").map(text), ["profile: smoke"]);

    // One copy of plotly.js for the page's two charts.
    assert.equal((await Deno.readTextFile(html)).split("plotly.js v3").length - 1, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
