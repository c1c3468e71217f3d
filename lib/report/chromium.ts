/**
 * Headless Chromium, used to turn plotly charts into static images and to check that rendered
 * HTML really draws. Debian ships it as `chromium-headless-shell` (or the full `chromium`).
 *
 * @module
 */

/** The Debian package to install when no Chromium is found. */
export const CHROMIUM_PACKAGE = "chromium-headless-shell";

const CANDIDATES = ["chromium-headless-shell", "chromium", "chromium-browser"];

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Path of a headless-capable Chromium: `$CHROMIUM` if set, else the first of
 * chromium-headless-shell, chromium, chromium-browser on `path` (default `$PATH`).
 * Throws naming the Debian package to install.
 */
export function chromiumPath(
  path: string = Deno.env.get("PATH") ?? "",
  override = Deno.env.get("CHROMIUM"),
): string {
  if (override) {
    if (isFile(override)) return override;
    throw new Error(`$CHROMIUM is set to '${override}', which is not a file`);
  }
  for (const name of CANDIDATES) {
    for (const dir of path.split(":").filter(Boolean)) {
      if (isFile(`${dir}/${name}`)) return `${dir}/${name}`;
    }
  }
  throw new Error(
    `no headless Chromium found on PATH (looked for ${CANDIDATES.join(", ")}): ` +
      `install it with \`apt-get install ${CHROMIUM_PACKAGE}\` or set $CHROMIUM to a Chromium binary`,
  );
}

/** Options for {@link dumpDom}. */
export interface DumpDomOptions {
  /** Virtual time the page may run (timers, promises) before the DOM is dumped; default 10 s. */
  readonly budgetMs?: number;
  /** Wall-clock limit for the whole browser run; default 120 s. */
  readonly timeoutMs?: number;
}

/** What a page showed: its DOM after its scripts ran, and its console messages. */
export interface LoadedPage {
  readonly dom: string;
  /** Console messages (uncaught errors among them, as "Uncaught ..."), each with its source. */
  readonly console: readonly string[];
}

/**
 * Loads `url` (e.g. a file:// URL) in headless Chromium, lets its scripts run, and returns the
 * serialised DOM. Throws with Chromium's stderr if it fails or runs past the time limit.
 */
export async function dumpDom(url: string, options: DumpDomOptions = {}): Promise<string> {
  return (await loadPage(url, options)).dom;
}

/** As {@link dumpDom}, with the page's console messages (Chromium logs them on stderr). */
export async function loadPage(url: string, options: DumpDomOptions = {}): Promise<LoadedPage> {
  const profile = await Deno.makeTempDir({ prefix: "safenet-chromium-" });
  try {
    const command = new Deno.Command(chromiumPath(), {
      args: [
        "--headless",
        // Containers and CI run as root, where Chromium refuses its sandbox; the pages are ours.
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        "--allow-file-access-from-files",
        `--virtual-time-budget=${options.budgetMs ?? 10_000}`,
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        url,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
    });
    const out = await command.output();
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) {
      throw new Error(
        `chromium failed on ${url} (exit ${out.code}${out.signal ? `, ${out.signal}` : ""}):\n${
          stderr.slice(-2000)
        }`,
      );
    }
    const console = [...stderr.matchAll(/:CONSOLE(?::\d+)?(?:\(\d+\))?\] (.*)$/gm)].map((m) => m[1]);
    return { dom: new TextDecoder().decode(out.stdout), console };
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}
