// The test browser: Debian's Chromium, or the binary KEYHOLE_CHROMIUM names. Every test and bench
// that launches a browser gets its path and flags here. Without the background-networking flags
// Chromium keeps trying hosts this machine cannot reach.
import { accessSync, constants, statSync } from 'node:fs';

/** The environment variable naming another Chromium (or Chrome) binary. */
export const CHROMIUM_VARIABLE = 'KEYHOLE_CHROMIUM';
/** Debian's `chromium` package. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS: string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium to launch: `KEYHOLE_CHROMIUM` when set, else the first of `candidates` that exists.
 * Throws an Error naming KEYHOLE_CHROMIUM when there is none.
 */
export function chromiumPath(
  env: Readonly<Record<string, string | undefined>> = process.env,
  candidates: readonly string[] = [DEBIAN_CHROMIUM],
): string {
  const chosen = env[CHROMIUM_VARIABLE];
  if (chosen) {
    if (isExecutableFile(chosen)) return chosen;
    throw new Error(
      `${CHROMIUM_VARIABLE}: "${chosen}" is not an executable file; set it to a Chromium or Chrome binary`,
    );
  }
  const found = candidates.find(isExecutableFile);
  if (found) return found;
  throw new Error(
    `no Chromium at ${candidates.join(', ')}: install Debian's chromium (apt-get install chromium), ` +
      `or set ${CHROMIUM_VARIABLE} to a Chromium or Chrome binary`,
  );
}

/** `chromium.launch(...)` options: the binary from {@link chromiumPath} and the test flags, plus `extraArgs`. */
export function chromiumLaunchOptions(extraArgs: readonly string[] = []): { executablePath: string; args: string[] } {
  return { executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...extraArgs] };
}

/** @deprecated Use {@link chromiumLaunchOptions} or {@link chromiumPath}: they check the file and name the variable. */
export const CHROMIUM_PATH = process.env[CHROMIUM_VARIABLE] || DEBIAN_CHROMIUM;
