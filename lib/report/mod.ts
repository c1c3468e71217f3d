/**
 * Reporting for notebooks and experiments: result files with provenance, danfojs tables and
 * plotly charts that display in the Deno Jupyter kernel and print or save elsewhere.
 *
 * @module
 */
export * from "./chart.ts";
export * from "./chromium.ts";
export * from "./image.ts";
export * from "./jupyter.ts";
export * from "./meta.ts";
export * from "./paths.ts";
export * from "./results.ts";
export * from "./stats.ts";
export * from "./table.ts";
