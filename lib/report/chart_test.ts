import assert from "node:assert/strict";
import {
  chartBundle,
  chartHtml,
  chartPage,
  LAB_PLOTLY_URL,
  PLOTLY_MIME,
  type PlotlyFigure,
  plotlyScript,
  renderImage,
  showChart,
  writeFigure,
} from "./chart.ts";
import { dumpDom } from "./chromium.ts";

const fig: PlotlyFigure = {
  data: [{ type: "bar", x: ["a", "b", "c"], y: [3, 1, 2], name: "</script><b>n</b>" }],
  layout: { title: { text: "Test chart" }, width: 500, height: 300 },
};

/** No script or stylesheet may come from the network: the page must work offline. */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /<script[^>]*\bsrc\s*=/i);
  assert.doesNotMatch(html, /<link[^>]*href\s*=\s*["']?(https?:)?\/\//i);
}

Deno.test("chartPage is a self-contained page with plotly.js inlined once", () => {
  const page = chartPage(fig);
  assertSelfContained(page);
  assert.match(page, /^<!DOCTYPE html>/);
  assert.match(page, /<title>Test chart<\/title>/);
  assert.equal(page.split("plotly.js v3").length - 1, 1, "plotly.js source is inlined once");
  assert.ok(page.length > 1_000_000);
  // The trace name's "</script>" must not end the script element early.
  assert.equal(page.split("</script>").length - 1, 2);
});

Deno.test("chart ids differ between charts of one page", () => {
  const ids = [chartHtml(fig), chartHtml(fig)].map((h) => h.match(/<div id="([^"]+)"/)![1]);
  assert.notEqual(ids[0], ids[1]);
});

Deno.test("chartBundle carries plotly JSON, HTML without plotly.js and a text stand-in", () => {
  const bundle = chartBundle(fig);
  assert.deepEqual(bundle[PLOTLY_MIME], fig);
  const html = bundle["text/html"] as string;
  assertSelfContained(html);
  assert.ok(html.length < 5_000, `a chart's HTML is ${html.length} characters: plotly.js is the page's`);
  assert.ok(html.includes(LAB_PLOTLY_URL), "in the lab it loads the server's copy");
  assert.match(bundle["text/plain"] as string, /Test chart, 1 trace/);
});

Deno.test("a chart's HTML draws with the page's plotly.js, and says so on a page without it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const charts = chartHtml(fig) + chartHtml(fig);
    await Deno.writeTextFile(
      `${dir}/with.html`,
      `<html><head>${plotlyScript()}</head><body>${charts}</body></html>`,
    );
    await Deno.writeTextFile(`${dir}/without.html`, `<html><body>${charts}</body></html>`);
    const drawn = await dumpDom(`file://${dir}/with.html`);
    assert.equal(drawn.match(/class="point"/g)?.length, 2 * 3, "both charts drew their three bars");
    const bare = await dumpDom(`file://${dir}/without.html`);
    assert.equal(bare.match(/>\[chart not drawn: this page has no plotly.js\]<\/div>/g)?.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("showChart prints a stand-in outside a notebook", async () => {
  const logged: unknown[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => logged.push(...args);
  try {
    await showChart(fig);
  } finally {
    console.log = original;
  }
  assert.deepEqual(logged, ["[plotly chart: Test chart, 1 trace(s)]"]);
});

Deno.test("writeFigure writes the HTML page and an SVG with the bars drawn", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = await writeFigure("demo", fig, { dir });
    assert.deepEqual(files, { html: `${dir}/demo.html`, image: `${dir}/demo.svg` });
    assertSelfContained(await Deno.readTextFile(files.html));
    const svg = await Deno.readTextFile(files.image!);
    assert.match(svg, /^<svg [^>]*width="500" height="300"/);
    assert.equal(svg.match(/class="point"/g)?.length, 3, "one bar per category");
    assert.match(svg, /Test chart/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderImage makes the same SVG bytes every run (no random ids)", async () => {
  const [a, b] = [await renderImage(fig), await renderImage(fig)];
  assert.match(new TextDecoder().decode(a), /clip-path="url\(#clip[0-9a-f]+/);
  assert.deepEqual(a, b);
});

Deno.test("renderImage makes a PNG of the requested size", async () => {
  const png = await renderImage(fig, { format: "png", width: 320, height: 200 });
  assert.deepEqual([...png.slice(1, 4)], [..."PNG"].map((c) => c.charCodeAt(0)));
  const view = new DataView(png.buffer, png.byteOffset);
  assert.equal(view.getUint32(16), 320);
  assert.equal(view.getUint32(20), 200);
});

Deno.test("renderImage reports plotly's error for an invalid figure", async () => {
  await assert.rejects(
    renderImage({ data: [{ type: "bar", y: [1] }] }, { width: -5 }),
    /plotly could not export the svg image: ERR:Error: Height and width should be pixel values/,
  );
});
