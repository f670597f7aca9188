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
 * Tracks the progress of a `size`-byte upload of which `start` bytes were sent before (a resumed
 * upload: they show at once and do not count as speed). `now` (milliseconds, monotonic) is injectable for tests.
 */
export function createProgress(size: number, now: () => number = () => performance.now(), start = 0): Progress {
  const rate = new Rate(now(), start);
  let shown = start;
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

/**
 * What a row shows while its upload is still running: every byte may have been sent while S3 has
 * not yet answered (or the multipart upload is being completed), so it never says 100% before the
 * file is stored. At that point it shows 99% and "finishing…"; the bar shows the same number.
 */
export function whileSending(progress: ProgressText): ProgressText {
  return progress.percent < 100 ? progress : { ...progress, percent: 99, eta: 'finishing…' };
}

/** One upload of the queue, as the overall line counts it. */
export interface QueueItem {
  readonly size: number;
  /** Bytes sent so far (the size once stored). */
  readonly loaded: number;
  readonly state: 'uploading' | 'done' | 'failed' | 'cancelled';
}

/** The queue's overall line. */
export interface QueueSummary {
  /** Whole percent of the bytes of running and stored uploads; 99 at most while any runs. */
  readonly percent: number;
  readonly running: number;
  readonly done: number;
  /** Failed and cancelled uploads: finished, but not stored. */
  readonly failed: number;
  readonly cancelled: number;
  readonly text: string;
}

const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;

/**
 * The overall progress of the uploads in `items`: failed and cancelled uploads count as finished
 * but add no bytes, so the percentage is that of what will be stored.
 */
export function summarize(items: readonly QueueItem[]): QueueSummary {
  let size = 0;
  let loaded = 0;
  const count = { uploading: 0, done: 0, failed: 0, cancelled: 0 };
  for (const item of items) {
    count[item.state]++;
    if (item.state === 'uploading' || item.state === 'done') {
      size += item.size;
      loaded += item.state === 'done' ? item.size : Math.min(item.loaded, item.size);
    }
  }
  const running = count.uploading;
  const whole = size > 0 ? Math.floor((loaded / size) * 100) : 100;
  const percent = running > 0 ? Math.min(whole, 99) : whole;
  const notStored = [
    ...(count.failed ? [`${count.failed} failed`] : []),
    ...(count.cancelled ? [`${count.cancelled} cancelled`] : []),
  ];
  const text =
    running > 0
      ? `Uploading ${files(running)}: ${count.done} of ${count.done + running} done, ${percent}% ` +
        `(${formatBytes(loaded)} of ${formatBytes(size)})${notStored.length ? `; ${notStored.join(', ')}` : ''}`
      : [`${files(count.done)} uploaded`, ...notStored].join(', ');
  return { percent, running, done: count.done, failed: count.failed, cancelled: count.cancelled, text };
}
