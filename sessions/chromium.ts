/**
 * @module
 * Finds the Chromium that whatsapp-web.js drives (never downloads one) and builds its launch
 * options: the low-memory flag set measured in `notes/platform-facts.md`, `--no-sandbox` only when
 * running as root, and a HOME of our own so Chromium writes nothing into the user's home.
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
  return args;
}

/** Puppeteer's defaults plus only what is needed to run at all (the baseline for the bench). */
export function minimalArgs(asRoot = runningAsRoot()): string[] {
  return asRoot ? ["--no-sandbox"] : [];
}

/** Resource types aborted by request interception to save renderer memory. */
export const BLOCKED_RESOURCE_TYPES: ReadonlySet<string> = new Set(["image", "font", "media"]);
