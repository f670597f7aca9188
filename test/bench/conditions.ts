// Where a benchmark run writes its results, and whether the machine was busy while it ran.
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

/** The committed results, which only `--publish` overwrites. */
export const PUBLISHED_DIR = 'test/bench/results';

/**
 * The folder results go to: `--out DIR`, the committed results with `--publish`, or else a new
 * temporary folder, so an ordinary run never overwrites what is committed.
 */
export function resolveOutDir(
  args: { readonly out?: string | undefined; readonly publish?: boolean | undefined },
  root: string,
  makeTemp: () => string = () => mkdtempSync(join(os.tmpdir(), 'keyhole-bench-')),
): string {
  if (args.out !== undefined && args.publish === true) {
    throw new RangeError(`--out and --publish exclude each other (--publish writes ${PUBLISHED_DIR})`);
  }
  if (args.publish === true) return join(root, PUBLISHED_DIR);
  return args.out ?? makeTemp();
}

/** The 1-minute load average, rounded to 2 decimals. */
export function loadAverage(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

/** CPU cores this process may use. */
export function cores(): number {
  return os.availableParallelism();
}

/** Busy: more runnable work than cores (1-minute load average above the core count). */
export function isBusy(load1: number, cpuCount: number = cores()): boolean {
  return load1 > cpuCount;
}

/** How far above the bench's typical load a run's starting load must be to count as disturbed. */
export const BUSY_FACTOR = 1.5;

/**
 * A run is flagged busy when it started with the load average above the core count and well above
 * (BUSY_FACTOR ×) the median starting load of all the bench's runs: the bench loads the machine
 * itself, so only load beyond its own marks other work competing with the run.
 */
export function isBusyRun(loadBefore: number, typicalLoad: number, cpuCount: number = cores()): boolean {
  return isBusy(loadBefore, cpuCount) && loadBefore > BUSY_FACTOR * typicalLoad;
}
