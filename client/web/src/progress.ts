// The numbers and texts of one upload's progress row, apart from the DOM so they are unit-tested in
// Node: percent, speed and time left from byte counts, which arrive per part and out of order.
import { formatBytes, formatDuration, Rate } from '../../format.js';

/** What an upload row shows at one moment. */
export interface ProgressText {
  /** Bytes counted as sent, never more than the file's size and never less than before. */
  readonly loaded: number;
  /** Whole percent, 0 to 100 (100 for an empty file). */
  readonly percent: number;
  /** "1.5 MiB/s", or "" until a speed is known. */
  readonly speed: string;
  /** "12 s left", or "" when unknown or finished. */
  readonly eta: string;
}

/** The progress of one file upload. */
export interface Progress {
  /** Records that `bytes` of the file have been sent in all; returns what to show. */
  update(bytes: number): ProgressText;
  /** "done in 12 s": the time since the upload started. */
  doneText(): string;
}

/** What a row shows before the first byte. */
export const INITIAL_PROGRESS: ProgressText = { loaded: 0, percent: 0, speed: 'starting…', eta: '' };

/**
 * Tracks the progress of a `size`-byte upload. `now` (milliseconds, monotonic) is injectable for tests.
 */
export function createProgress(size: number, now: () => number = () => performance.now()): Progress {
  const rate = new Rate(now());
  let shown = 0;
  return {
    update(bytes) {
      // Monotonic: a retried part restarts its own count, the bar does not go back.
      const loaded = Math.max(shown, Math.min(bytes, size));
      shown = loaded;
      const percent = size > 0 ? Math.min(100, Math.floor((loaded / size) * 100)) : 100;
      const bps = rate.update(loaded, now());
      return {
        loaded,
        percent,
        speed: bps > 0 ? `${formatBytes(bps)}/s` : '',
        eta: bps > 0 && loaded < size ? `${formatDuration((size - loaded) / bps)} left` : '',
      };
    },
    doneText: () => `done in ${formatDuration(rate.elapsedSeconds(now()))}`,
  };
}

/**
 * Adds up per-part byte counts (parts go out in parallel, each reporting its own count) and calls
 * `onTotal` with the sum after each report. Returns the per-part listener.
 */
export function sumParts(onTotal: (bytes: number) => void): (part: number, loaded: number) => void {
  const parts = new Map<number, number>();
  return (part, loaded) => {
    parts.set(part, loaded);
    let sum = 0;
    for (const bytes of parts.values()) sum += bytes;
    onTotal(sum);
  };
}
