import assert from "node:assert/strict";
import { CHROMIUM_PACKAGE, chromiumPath, dumpDom } from "./chromium.ts";

Deno.test("chromiumPath names the Debian package when no Chromium is on PATH", () => {
  assert.throws(
    () => chromiumPath("/nonexistent", undefined),
    new RegExp(`apt-get install ${CHROMIUM_PACKAGE}`),
  );
});

Deno.test("chromiumPath rejects a $CHROMIUM that is not a file", () => {
  assert.throws(() => chromiumPath("", "/nonexistent/chromium"), /\$CHROMIUM is set/);
});

Deno.test("dumpDom runs the page's scripts before dumping", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/p.html`,
      `<html><body><p id="x">before</p><script>
        setTimeout(() => { document.getElementById("x").textContent = "after " + (6 * 7); }, 500);
      </script></body></html>`,
    );
    assert.match(await dumpDom(`file://${dir}/p.html`), /<p id="x">after 42<\/p>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
