// Human-readable sizes, rates and durations, shared by the web app and the CLI (not exported).

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB" (powers of 1024, one decimal below 10). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Seconds -> "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A countdown: "14:59", or "1:02:03" above an hour. */
export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${Math.floor(s / 60)}:${ss}`;
}

export function formatDate(date: Date | undefined): string {
  if (!date) return '';
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Speed and ETA of one transfer, from progress samples. */
export class Rate {
  readonly #started: number;
  #samples: { at: number; loaded: number }[] = [];

  /** `loaded`: bytes already there at the start (a resumed upload), which do not count as speed. */
  constructor(now = performance.now(), loaded = 0) {
    this.#started = now;
    this.#samples.push({ at: now, loaded });
  }

  /** Records progress; returns bytes per second over the last few seconds (whole run until then). */
  update(loaded: number, now = performance.now()): number {
    this.#samples.push({ at: now, loaded });
    // A sliding 5 s window follows changes in speed without jumping on every event.
    while (this.#samples.length > 2 && now - this.#samples[1]!.at > 5000) this.#samples.shift();
    const first = this.#samples[0]!;
    const elapsed = (now - first.at) / 1000;
    return elapsed > 0 ? (loaded - first.loaded) / elapsed : 0;
  }

  elapsedSeconds(now = performance.now()): number {
    return (now - this.#started) / 1000;
  }
}

/**
 * Characters that must never reach a terminal raw: C0 controls (including tab and newline), DEL, C1
 * controls (U+0080–U+009F: U+009B is an 8-bit CSI on some terminals), the line and paragraph
 * separators U+2028/U+2029, and the Unicode Bidi_Control characters (U+061C, U+200E, U+200F,
 * U+202A–U+202E, U+2066–U+2069), which reorder what is shown and so can make one name look like another.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function hex(c: string, digits: number): string {
  return c.charCodeAt(0).toString(16).padStart(digits, '0');
}

/**
 * Makes a key, file name or server-provided text safe to print on a terminal: C0 controls and DEL
 * become `\x1b`-style escapes, every other character in {@link UNSAFE} a `\u009b`-style one, and a
 * backslash `\\`, so the output is unambiguous (a key really named `a\x1b` prints as `a\\x1b`).
 * Everything else, including other non-ASCII text, is unchanged.
 *
 * @example escapeForTerminal('a\x1b]0;pwned\x07\u009b.txt') === 'a\\x1b]0;pwned\\x07\\u009b.txt'
 */
export function escapeForTerminal(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(UNSAFE, (c) => (c <= '\u007f' ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/**
 * `JSON.stringify` for output that may reach a terminal. JSON already escapes C0 controls; this also
 * writes DEL, C1 and the other characters in {@link UNSAFE} as `\u` escapes, which parse back to the
 * same string, so the document means exactly what `JSON.stringify` would have produced.
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${hex(c, 4)}`);
}
