/**
 * @module
 * Finds the Chromium that whatsapp-web.js drives (never downloads one) and builds its launch
 * options: the low-memory flag set measured in `notes/platform-facts.md`, `--no-sandbox` only when
 * running as root, a HOME of our own so Chromium writes nothing into the user's home, and an
 * environment reduced to what Chromium uses, so the server's keys and secrets never reach it.
 */

/** The Chromium binaries looked for, best first (the old-headless shell uses least memory). */
export const CHROMIUM_CANDIDATES: readonly string[] = [
  "/usr/bin/chromium-headless-shell",
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

export interface ChromiumBinary {
  path: string;
  /** `"shell"` for chromium-headless-shell (old headless), `true` for a full Chromium. */
  headless: "shell" | true;
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

function describe(path: string): ChromiumBinary {
  return { path, headless: /headless[-_]shell/.test(path) ? "shell" : true };
}

/**
 * The Chromium to use: `explicitPath` (from CHROME_PATH) when given, else the first of
 * {@link CHROMIUM_CANDIDATES} that exists. Throws a message meant for an operator when none does.
 */
export function findChromium(
  explicitPath?: string,
  candidates: readonly string[] = CHROMIUM_CANDIDATES,
): ChromiumBinary {
  if (explicitPath) {
    if (!isExecutableFile(explicitPath)) {
      throw new Error(`Chromium not found at CHROME_PATH "${explicitPath}"`);
    }
    return describe(explicitPath);
  }
  const found = candidates.find(isExecutableFile);
  if (!found) {
    throw new Error(
      `No Chromium found (looked for ${candidates.join(", ")}); install the Debian package ` +
        `"chromium-headless-shell" or "chromium", or set CHROME_PATH`,
    );
  }
  return describe(found);
}

/** Whether this process runs as root (Chromium's sandbox then needs `--no-sandbox`). */
export function runningAsRoot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

/**
 * The low-memory flag set. Returns a fresh array every call: puppeteer edits the array it is
 * given (it pulls out `--enable-features`/`--disable-features`).
 */
export function lowMemoryArgs(binary: ChromiumBinary, asRoot = runningAsRoot()): string[] {
  const args = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-software-rasterizer",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--enable-features=NetworkServiceInProcess2",
    "--js-flags=--optimize-for-size --max-semi-space-size=1",
  ];
  if (binary.headless === "shell") args.push("--in-process-gpu");
  if (asRoot) args.push("--no-sandbox");
  // Without a sandbox the two zygote processes serve nothing but forking the one renderer: the
  // shell then runs in 3 processes instead of 5 and ~8.5 MB less (bench/README.md, #21). Chromium
  // refuses --no-zygote while its sandbox is on.
  if (asRoot && binary.headless === "shell") args.push("--no-zygote");
  return args;
}

/** Puppeteer's defaults plus only what is needed to run at all (the baseline for the bench). */
export function minimalArgs(asRoot = runningAsRoot()): string[] {
  return asRoot ? ["--no-sandbox"] : [];
}

/** Resource types aborted by request interception to save renderer memory. */
export const BLOCKED_RESOURCE_TYPES: ReadonlySet<string> = new Set(["image", "font", "media"]);

/**
 * Variables Chromium (and Debian's `/usr/bin/chromium*` wrapper scripts, which run `uname`, `grep`,
 * `findmnt` and the real binary through `PATH`) reads: the shell's `PATH`, temporary files and
 * the shared memory `--disable-dev-shm-usage` moves there (`TMPDIR`), locale and time zone (what
 * pages see as `navigator.language` and the local time), a display and fonts when one is used,
 * and the proxy that lets it reach WhatsApp Web where the server's egress needs one.
 */
const CHROMIUM_VARIABLES = new Set([
  "PATH",
  "TMPDIR",
  "LANG",
  "LANGUAGE",
  "TZ",
  "DISPLAY",
  "WAYLAND_DISPLAY",
  "XAUTHORITY",
  "XDG_RUNTIME_DIR",
  "FONTCONFIG_FILE",
  "FONTCONFIG_PATH",
  "FONTCONFIG_SYSROOT",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
]);

/**
 * Chromium's environment: only the variables above (and `LC_*`) from `source`, with `HOME` set
 * to `home`. Everything else (API keys, webhook secrets, database URLs, `XDG_CONFIG_HOME`, which
 * would move its profile out of `home`) stays out. `PATH` falls back to the system default.
 */
export function chromiumEnv(
  source: Readonly<Record<string, string>>,
  home: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (CHROMIUM_VARIABLES.has(name) || name.startsWith("LC_")) env[name] = value;
  }
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
  env.HOME = home;
  return env;
}
