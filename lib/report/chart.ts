/**
 * Charts as plotly figure specs (plain JSON). plotly.js needs a browser `window`, so it never
 * runs in Deno: the spec is shown in a notebook through a display bundle, written as a
 * standalone HTML page, and drawn to a static image by headless Chromium.
 *
 * plotly.js (about 4.7 MB) is never part of a chart: a page carries one copy for all its
 * charts. The standalone page inlines it; a rendered notebook's HTML gets it once in its head
 * (tools/execute_notebook.py); in `deno task lab`, the notebook server serves it as a static
 * file that the first chart loads ({@link LAB_PLOTLY_URL}). Front ends that render plotly JSON
 * themselves (JupyterLab, VS Code) use the bundle's {@link PLOTLY_MIME} entry.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dumpDom } from "./chromium.ts";
import { type MimeBundle, show, type Shown } from "./jupyter.ts";
import { writeFileAtomic } from "../data/atomic.ts";
import { REPO_ROOT } from "../data/locate.ts";
import { checkName, FIGURES_DIR } from "./paths.ts";

/** A plotly figure: traces, layout and config exactly as plotly.js takes them. */
export interface PlotlyFigure {
  readonly data: readonly Record<string, unknown>[];
  readonly layout?: Record<string, unknown>;
  readonly config?: Record<string, unknown>;
}

/** MIME type of plotly figures in Jupyter (rendered natively by JupyterLab's plotly extension). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** The plotly.js bundle in node_modules (a page's one copy is read from here). */
export const PLOTLY_JS_PATH = `${REPO_ROOT}/node_modules/plotly.js-dist-min/plotly.min.js`;

/**
 * Where plotly.js is found in `deno task lab`, relative to the notebook server's base URL: the
 * server serves {@link PLOTLY_JS_PATH}'s directory as extra static files.
 */
export const LAB_PLOTLY_URL = "static/plotly.min.js";

let plotlyJsCache: string | undefined;

/** The plotly.js bundle's source, read once from node_modules. */
export function plotlyJs(): string {
  if (plotlyJsCache === undefined) {
    try {
      plotlyJsCache = Deno.readTextFileSync(PLOTLY_JS_PATH);
    } catch (e) {
      throw new Error(`cannot read ${PLOTLY_JS_PATH} (${e}): run \`npm ci\` to install plotly.js-dist-min`);
    }
  }
  return plotlyJsCache;
}

/** Makes JS safe inside an HTML <script> element: "</script" would end the element early. */
function scriptText(js: string): string {
  return js.replace(/<\/script/gi, "<\\/script");
}

/** plotly.js as one inline `<script>` element, for a page's head. */
export function plotlyScript(): string {
  return `<script type="text/javascript">${scriptText(plotlyJs())}</script>`;
}

/** JSON for embedding in a <script>: escaping "<" keeps "</script>" and "<!--" out. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

let chartCounter = 0;

/** A div id that is unique within a page and stable from run to run (no randomness). */
function chartId(fig: PlotlyFigure): string {
  const hash = createHash("sha256").update(JSON.stringify(fig)).digest("hex").slice(0, 10);
  return `plotly-${hash}-${++chartCounter}`;
}

/**
 * An HTML fragment drawing `fig`: a div and a script that draws it with the page's plotly.js.
 * Where the page has none and is the notebook server's (its body carries `data-base-url`),
 * the script loads {@link LAB_PLOTLY_URL} once for all charts; elsewhere the div says why
 * nothing is drawn.
 */
export function chartHtml(fig: PlotlyFigure): string {
  const id = JSON.stringify(chartId(fig));
  const height = typeof fig.layout?.height === "number" ? `${fig.layout.height}px` : "480px";
  return [
    `<div id=${id} class="safenet-plotly" style="width:100%;height:${height}"></div>`,
    `<script type="text/javascript">(function () {`,
    `  const fig = ${scriptJson(fig)};`,
    `  const div = document.getElementById(${id});`,
    `  const draw = () => Plotly.newPlot(div, fig.data, fig.layout || {}, Object.assign({ responsive: true }, fig.config || {}));`,
    `  const base = document.body.getAttribute("data-base-url");`,
    `  if (window.Plotly) { draw(); return; }`,
    `  if (base === null) { div.textContent = "[chart not drawn: this page has no plotly.js]"; return; }`,
    `  window.safenetPlotly = window.safenetPlotly || new Promise((resolve, reject) => {`,
    `    const script = Object.assign(document.createElement("script"), { src: base + ${
      JSON.stringify(LAB_PLOTLY_URL)
    } });`,
    `    script.onload = resolve;`,
    `    script.onerror = () => reject(new Error("cannot load " + script.src));`,
    `    document.head.appendChild(script);`,
    `  });`,
    `  window.safenetPlotly.then(draw, (e) => { div.textContent = "[chart not drawn: " + e.message + "]"; });`,
    `})();</script>`,
  ].join("\n");
}

function figureTitle(fig: PlotlyFigure): string {
  const title = fig.layout?.title;
  const text = typeof title === "string" ? title : (title as { text?: unknown } | undefined)?.text;
  return typeof text === "string" ? text.replace(/<[^>]*>/g, "") : "chart";
}

/** A standalone, offline HTML page showing `fig` interactively (plotly.js inlined in its head). */
export function chartPage(fig: PlotlyFigure): string {
  const title = figureTitle(fig).replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n${plotlyScript()}\n</head>\n<body>\n${
    chartHtml(fig)
  }\n</body>\n</html>\n`;
}

/**
 * The notebook display bundle: the plotly JSON for front ends that render it natively, HTML
 * drawing it with the page's plotly.js for the rest (classic Jupyter, nbconvert's HTML), and a
 * text stand-in.
 */
export function chartBundle(fig: PlotlyFigure): MimeBundle {
  return {
    [PLOTLY_MIME]: fig,
    "text/html": chartHtml(fig),
    "text/plain": `[plotly chart: ${figureTitle(fig)}, ${fig.data.length} trace(s)]`,
  };
}

/** Shows `fig` as a notebook output; in a terminal prints a one-line stand-in instead. */
export function showChart(fig: PlotlyFigure): Shown {
  const bundle = chartBundle(fig);
  return show(bundle, bundle["text/plain"] as string);
}

/** Static image formats that plotly can export. */
export type ImageFormat = "svg" | "png";

/** Options for {@link renderImage}. */
export interface ImageOptions {
  /** Default "svg". */
  readonly format?: ImageFormat;
  /** Pixel size; default the layout's width/height, else 900 x 500. */
  readonly width?: number;
  readonly height?: number;
}

const OUT_ID = "safenet-image-out";

/** The page that headless Chromium loads to export `fig`; it reports in `#safenet-image-out`. */
function exportPage(fig: PlotlyFigure, format: ImageFormat, width: number, height: number): string {
  // The result goes through the DOM as base64, which dump-dom cannot mangle by HTML escaping.
  // plotly names clip paths and defs with Math.random: a fixed sequence keeps the SVG byte-stable.
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<script type="text/javascript">(function () {
  let state = 0x2545f491;
  Math.random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
})();</script>
${plotlyScript()}</head>
<body><div id="plot"></div><pre id="${OUT_ID}"></pre>
<script type="text/javascript">
const fig = ${scriptJson(fig)};
const out = document.getElementById(${JSON.stringify(OUT_ID)});
function base64Utf8(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
Plotly.newPlot("plot", fig.data, fig.layout || {}, fig.config || {})
  .then((gd) => Plotly.toImage(gd, { format: ${JSON.stringify(format)}, width: ${width}, height: ${height} }))
  .then((url) => {
    const comma = url.indexOf(",");
    const svgPrefix = "data:image/svg+xml,";
    out.textContent = "OK:" + (url.startsWith(svgPrefix) ? base64Utf8(decodeURIComponent(url.slice(comma + 1))) : url.slice(comma + 1));
  })
  .catch((e) => { out.textContent = "ERR:" + e; });
</script></body></html>`;
}

/** Renders `fig` to SVG (UTF-8 bytes) or PNG with plotly inside headless Chromium (~1-2 s). */
export async function renderImage(fig: PlotlyFigure, options: ImageOptions = {}): Promise<Uint8Array> {
  const format = options.format ?? "svg";
  const width = options.width ?? (typeof fig.layout?.width === "number" ? fig.layout.width : 900);
  const height = options.height ?? (typeof fig.layout?.height === "number" ? fig.layout.height : 500);
  const dir = await Deno.makeTempDir({ prefix: "safenet-chart-" });
  try {
    const page = `${dir}/export.html`;
    await Deno.writeTextFile(page, exportPage(fig, format, width, height));
    const dom = await dumpDom(`file://${page}`);
    const report = dom.match(new RegExp(`<pre id="${OUT_ID}">([^<]*)</pre>`))?.[1] ?? "";
    if (!report.startsWith("OK:")) {
      throw new Error(
        `plotly could not export the ${format} image: ${report || "no result (page did not finish)"}`,
      );
    }
    return Uint8Array.from(atob(report.slice(3)), (c) => c.charCodeAt(0));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Options for {@link writeFigure}. */
export interface FigureOptions extends ImageOptions {
  /** Output directory; default the repository's figures/. */
  readonly dir?: string;
  /** Skip the static image (no Chromium run). */
  readonly htmlOnly?: boolean;
}

/** Paths written by {@link writeFigure}. */
export interface FigureFiles {
  readonly html: string;
  readonly image?: string;
}

/** Writes `<dir>/<name>.html` (interactive, offline) and `<dir>/<name>.svg` (or .png). */
export async function writeFigure(
  name: string,
  fig: PlotlyFigure,
  options: FigureOptions = {},
): Promise<FigureFiles> {
  const stem = `${options.dir ?? FIGURES_DIR}/${checkName(name)}`;
  await writeFileAtomic(`${stem}.html`, chartPage(fig));
  if (options.htmlOnly) return { html: `${stem}.html` };
  const format = options.format ?? "svg";
  const image = `${stem}.${format}`;
  await Deno.writeFile(image, await renderImage(fig, options));
  return { html: `${stem}.html`, image };
}
