import assert from "node:assert/strict";
import { JUPYTER_DISPLAY } from "./jupyter.ts";
import { showTable, tableBundle, tableFromRows, tableHtml, tableText } from "./table.ts";

const rows = [
  { name: "a<b", units: 65536, share: 0.378698 },
  { name: "c", units: 1024, share: 0.005917 },
];

Deno.test("tableFromRows keeps column order and values", () => {
  const df = tableFromRows(rows);
  assert.deepEqual(df.columns, ["name", "units", "share"]);
  assert.deepEqual(df.values, [["a<b", 65536, 0.378698], ["c", 1024, 0.005917]]);
  assert.deepEqual(tableFromRows(rows, ["units"]).columns, ["units"]);
  // It is a real danfojs frame: filtering and summing work.
  assert.equal(df["units"].sum(), 66560);
  assert.deepEqual(df.query(df["name"].eq("c")).values, [["c", 1024, 0.005917]]);
});

Deno.test("tableFromRows rejects empty input, missing cells and clashing column names", () => {
  assert.throws(() => tableFromRows([]), /no rows/);
  assert.throws(() => tableFromRows([{ a: 1 }, { b: 2 }]), /row 1 has no column 'a'/);
  assert.throws(() => tableFromRows([{ shape: "3x3" }]), /column 'shape' clashes/);
  assert.throws(() => tableFromRows([{ count: 1 }]), /column 'count' clashes/);
});

Deno.test("tableHtml escapes text and formats numbers", () => {
  const html = tableHtml(tableFromRows(rows), { caption: "T & C", digits: 3 });
  assert.match(html, /<caption>T &amp; C<\/caption>/);
  assert.match(html, /<th>name<\/th><th>units<\/th><th>share<\/th>/);
  assert.match(html, /<td style="text-align:left">a&lt;b<\/td>/);
  assert.match(html, />65,536</);
  assert.match(html, />0\.379</);
  assert.ok(!html.includes("a<b"));
});

Deno.test("tableText shows every row aligned, blanks for null", () => {
  const many = Array.from({ length: 31 }, (_, i) => ({ layer: i + 1, note: i === 3 ? null : "x" }));
  const lines = tableText(tableFromRows(many)).split("\n");
  assert.equal(lines.length, 2 + 31);
  assert.equal(lines[0], "layer  note");
  assert.equal(lines[2], "    1  x");
  assert.equal(lines[5], "    4");
  assert.equal(lines[32], "   31  x");
});

Deno.test("showTable prints text outside a notebook", async () => {
  const logged: unknown[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => logged.push(...args);
  try {
    await showTable(tableFromRows(rows), { caption: "Caption" });
  } finally {
    console.log = original;
  }
  assert.equal(logged.length, 1);
  assert.match(String(logged[0]), /^Caption\nname/);
});

Deno.test("a DataFrame displays itself as the table in a notebook", () => {
  const df = tableFromRows(rows);
  const display = (df as unknown as Record<symbol, () => Record<string, string>>)[JUPYTER_DISPLAY];
  assert.deepEqual(display.call(df), tableBundle(df));
  assert.equal(display.call(df)["text/html"], tableHtml(df));
  assert.equal(display.call(df)["text/plain"], tableText(df));
});
