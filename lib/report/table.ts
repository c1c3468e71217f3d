/**
 * Tables: danfojs DataFrames built from plain rows (so notebooks can sort, group and sum them),
 * shown as HTML in a notebook and as aligned text in a terminal. Importing this module also
 * makes every DataFrame display itself as a table when it is a notebook cell's last value.
 *
 * @module
 */
import * as dfd from "danfojs";
import { JUPYTER_DISPLAY, type MimeBundle, show, type Shown } from "./jupyter.ts";

/** One table row: column name to a plain value. */
export type Row = Readonly<Record<string, string | number | boolean | null>>;

/** A danfojs DataFrame (re-exported type so callers need not import danfojs themselves). */
export type DataFrame = dfd.DataFrame;

/**
 * A DataFrame from rows; columns keep the order of `columns`, or of the first row's keys.
 * Throws on an empty table, a row missing a column (it would become NaN silently), or a column
 * name that is also a DataFrame property.
 */
export function tableFromRows(rows: readonly Row[], columns?: readonly string[]): DataFrame {
  if (rows.length === 0) throw new Error("tableFromRows: no rows; a table needs at least one row");
  const cols = columns ?? Object.keys(rows[0]);
  const data: Record<string, unknown[]> = {};
  for (const col of cols) {
    // danfojs exposes columns as properties, so a column called e.g. "shape" or "values" hides
    // the DataFrame's own property and breaks query/loc silently.
    if (Reflect.has(dfd.DataFrame.prototype, col)) {
      throw new Error(`tableFromRows: column '${col}' clashes with a danfojs DataFrame property; rename it`);
    }
    data[col] = rows.map((row, i) => {
      if (!(col in row)) throw new Error(`tableFromRows: row ${i} has no column '${col}'`);
      return row[col];
    });
  }
  return new dfd.DataFrame(data);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Integers get thousands separators, other numbers at most `digits` decimals; null is blank. */
function formatCell(value: unknown, digits: number): string {
  if (value === null || value === undefined) return "";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return Number(value.toFixed(digits)).toString();
}

/** Options for rendering a table. */
export interface TableOptions {
  /** Caption above the table. */
  readonly caption?: string;
  /** Decimals kept for non-integer numbers (default 4). */
  readonly digits?: number;
}

/** The table as an HTML `<table>` (values escaped; numbers right-aligned, text left-aligned). */
export function tableHtml(df: DataFrame, options: TableOptions = {}): string {
  const digits = options.digits ?? 4;
  const head = df.columns.map((c) => `<th>${escapeHtml(String(c))}</th>`).join("");
  const rows = (df.values as unknown[][]).map((row) =>
    "<tr>" +
    row.map((v) => {
      // Explicit both ways: Jupyter's stylesheet right-aligns every cell, text included.
      const align = ` style="text-align:${typeof v === "number" ? "right" : "left"}"`;
      return `<td${align}>${escapeHtml(formatCell(v, digits))}</td>`;
    }).join("") +
    "</tr>"
  ).join("\n");
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : "";
  return `<table class="safenet-table">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody></table>`;
}

/**
 * The table as aligned plain text with every row and column (danfojs' own `toString` cuts
 * tables to 10 rows and 8 columns, which hides most of a ResNet-32's 31 layers).
 */
export function tableText(df: DataFrame, options: TableOptions = {}): string {
  const digits = options.digits ?? 4;
  const values = df.values as unknown[][];
  const cells = [df.columns.map(String), ...values.map((row) => row.map((v) => formatCell(v, digits)))];
  const numeric = df.columns.map((_, j) => values.every((row) => typeof row[j] === "number"));
  const widths = df.columns.map((_, j) => Math.max(...cells.map((row) => row[j].length)));
  const lines = cells.map((row) =>
    row.map((cell, j) => numeric[j] ? cell.padStart(widths[j]) : cell.padEnd(widths[j])).join("  ").trimEnd()
  );
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return (options.caption ? `${options.caption}\n` : "") + lines.join("\n");
}

/** The table as a notebook MIME bundle: HTML, with the aligned text for other front ends. */
export function tableBundle(df: DataFrame, options: TableOptions = {}): MimeBundle {
  return { "text/html": tableHtml(df, options), "text/plain": tableText(df, options) };
}

/** Shows the table: as HTML (plus text) in a notebook, as text on stdout elsewhere. */
export function showTable(df: DataFrame, options: TableOptions = {}): Shown {
  const bundle = tableBundle(df, options);
  return show(bundle, bundle["text/plain"] as string);
}

// A bare DataFrame as a cell's last value: danfojs has no notebook display of its own for
// the Deno kernel, which would otherwise print the object's internals.
Object.defineProperty(dfd.DataFrame.prototype, JUPYTER_DISPLAY, {
  value: function (this: DataFrame): MimeBundle {
    return tableBundle(this);
  },
  configurable: true,
});
