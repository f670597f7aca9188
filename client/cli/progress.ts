import { escapeForTerminal, formatBytes, formatDuration, Rate } from '../format.js';

/** One transfer's progress line on a terminal. */
export interface ProgressLine {
  update(loaded: number, total: number | undefined): void;
  /** Removes the line (the caller prints the outcome); a later `update` draws it again. */
  end(): void;
}

const NONE: ProgressLine = { update() {}, end() {} };

/**
 * A redrawn single-line bar: name, bar, percent, speed, ETA. Drawn at most 10 times a second,
 * only when `enabled` (stderr is a TTY and neither --json nor --quiet was given). `label` is fixed,
 * or asked for at each redraw (`3/10 files`).
 */
export function progressLine(
  stream: NodeJS.WriteStream,
  label: string | (() => string),
  enabled: boolean,
): ProgressLine {
  if (!enabled) return NONE;
  const rate = new Rate();
  let last = 0;
  let drawn = false;
  return {
    update(loaded, total) {
      const now = performance.now();
      const bps = rate.update(loaded, now);
      if (now - last < 100 && loaded !== total) return;
      last = now;
      const columns = stream.columns || 80;
      const speed = bps > 0 ? `${formatBytes(bps)}/s` : '';
      const eta = total && bps > 0 && loaded < total ? `ETA ${formatDuration((total - loaded) / bps)}` : '';
      const tail = total
        ? ` ${String(Math.floor((loaded / total) * 100)).padStart(3)}%  ${formatBytes(loaded)} / ${formatBytes(total)}  ${speed}  ${eta}`
        : ` ${formatBytes(loaded)}  ${speed}`;
      // The label is a key or file name: escaped, so it cannot move the cursor or recolour the terminal.
      const safe = escapeForTerminal(typeof label === 'string' ? label : label());
      const name = safe.length > 30 ? `…${safe.slice(-29)}` : safe;
      // A steady bar width (the tail's length varies as numbers change); 52 fits the longest tail.
      const width = Math.max(10, Math.min(30, columns - name.length - 52));
      const filled = total ? Math.round((loaded / total) * width) : 0;
      const bar = total ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]` : '';
      stream.write(`\r\x1b[2K${`${name} ${bar}${tail}`.slice(0, columns - 1)}`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
