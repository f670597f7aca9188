// Where the CLI reads and writes, and its two ways of writing a line.
import type { Writable } from 'node:stream';
import { escapeForTerminal } from '../format.js';

/** Where the CLI reads and writes; tests pass their own. */
export interface Io {
  readonly stdout: NodeJS.WriteStream | Writable;
  readonly stderr: NodeJS.WriteStream | Writable;
  readonly env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
}

/** Writes text the CLI composed itself (usage, version, JSON from `terminalSafeJson`) as it is. */
export function print(stream: Io['stdout'], text: string): void {
  stream.write(text.endsWith('\n') ? text : text + '\n');
}

/**
 * Writes one human-readable line. The whole line goes through `escapeForTerminal`, because keys, file
 * names, the broker URL and broker or S3 messages end up in it: none of their control, C1 or bidi
 * characters reach the terminal, and the line stays one line.
 */
export function say(stream: Io['stdout'], line: string): void {
  stream.write(escapeForTerminal(line) + '\n');
}

/** True when progress bars should be drawn on stderr: a terminal, and neither --json nor --quiet. */
export function showsProgress(io: Io, opts: { readonly json: boolean; readonly quiet: boolean }): boolean {
  return !opts.json && !opts.quiet && (io.stderr as NodeJS.WriteStream).isTTY === true;
}
