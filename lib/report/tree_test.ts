import assert from "node:assert/strict";
import { treeSvg } from "./tree.ts";

Deno.test("tree SVG: one box per node, one line per edge, text escaped, children below parents", () => {
  const svg = treeSvg({
    lines: ["root <all>"],
    emphasis: true,
    children: [{ lines: ["a"], children: [{ lines: ["a1"] }, { lines: ["a2"] }] }, {
      lines: ["b"],
      faded: true,
    }],
  }, { title: "T & U", levelCaptions: ["level 0", "level 1", "level 2"] });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<rect x=/g) ?? []).length, 5);
  assert.equal((svg.match(/<line /g) ?? []).length, 4);
  assert.ok(svg.includes("root &lt;all&gt;") && svg.includes("T &amp; U"));
  assert.ok(!svg.includes("<all>"));
  assert.equal((svg.match(/opacity="0.4"/g) ?? []).length, 1);
  const y = (label: string) => {
    const at = svg.indexOf(`>${label}</text>`);
    return Number(svg.slice(svg.lastIndexOf('y="', at) + 3).split('"')[0]);
  };
  assert.ok(y("root &lt;all&gt;") < y("a") && y("a") < y("a1") && y("a1") === y("a2"));
  for (const caption of ["level 0", "level 1", "level 2"]) assert.ok(svg.includes(`>${caption}</text>`));
});
