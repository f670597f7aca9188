import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

// Belt and braces: handlers log explicit fields only, but if a secret ever reaches a log call
// under one of these names, in the logged object or in an object up to two levels inside it
// (`credentials.secretAccessKey`, `req.headers.authorization`), it is censored rather than written.
const SECRET_NAMES = new Set(['secretAccessKey', 'sessionToken', 'token', 'authorization', 'credentials']);
const CENSOR = '[redacted]';
const REDACT_DEPTH = 2;

/**
 * `obj` with every value under a {@link SECRET_NAMES} key censored, down to {@link REDACT_DEPTH}
 * levels; `obj` itself when nothing is (the common case: no copy). The caller's objects are never
 * changed: a censored level is a copy with the same prototype and properties (an Error keeps its
 * message). pino's own `redact` did this with a path list it walked on every line, at a tenth of
 * the cost of a cached credentials answer (test/bench/results/broker-profile.md); this checks
 * each key once.
 */
export function redactSecrets<T extends object>(obj: T, depth = 0): T {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const value = (obj as Record<string, unknown>)[key];
    let next = value;
    if (SECRET_NAMES.has(key)) next = CENSOR;
    else if (depth < REDACT_DEPTH && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      next = redactSecrets(value, depth + 1);
    }
    if (next !== value) {
      copy ??= Object.create(Object.getPrototypeOf(obj), Object.getOwnPropertyDescriptors(obj)) as Record<
        string,
        unknown
      >;
      copy[key] = next;
    }
  }
  return (copy as T | undefined) ?? obj;
}

/** How log lines are written: JSON (one object a line) or human-readable (pino-pretty). */
export type LogOutput = 'json' | 'pretty';

/**
 * The output for `KEYHOLE_LOG_FORMAT`: never pretty in production (audit events stay JSON), and
 * for `auto` pretty only on a terminal, and only when pino-pretty (a devDependency) is installed.
 */
export function logOutput(
  format: 'auto' | 'json' | 'pretty',
  where: { readonly isTTY: boolean; readonly production: boolean; readonly prettyInstalled: boolean },
): LogOutput {
  if (where.production || format === 'json') return 'json';
  if (format === 'pretty') return 'pretty';
  return where.isTTY && where.prettyInstalled ? 'pretty' : 'json';
}

const require = createRequire(import.meta.url);

/** True when pino-pretty can be loaded (a development checkout; not an install without devDependencies). */
export function prettyInstalled(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the broker's logger. Level from `KEYHOLE_LOG_LEVEL` semantics: default "info". Writes to
 * `destination` (default stdout), as JSON unless `output` is "pretty".
 *
 * Stdout is written synchronously: each line (an issuance's audit line above all) is in the
 * kernel before the response that it records is sent, so a crash or a `kill -9` loses none, and a
 * Lambda container frozen after its response has nothing left to write. A log reader that stops
 * reading stalls the broker instead of growing its memory or dropping lines. It is also cheaper
 * than pino's default (asynchronous writes through libuv's thread pool, each of which wakes a pool
 * thread and then the event loop again): 8 µs of CPU per audit line instead of 23, one line per
 * turn of the loop (`npm run bench:audit-line`, test/bench/results/audit-line.md).
 */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream, output: LogOutput = 'json'): Logger {
  const options = {
    level,
    base: { service: 'keyhole-broker' },
    formatters: { log: (obj: Record<string, unknown>) => redactSecrets(obj) },
  };
  const stream =
    output === 'pretty' ? prettyStream(destination) : (destination ?? pino.destination({ dest: 1, sync: true }));
  return pino(options, stream as pino.DestinationStream);
}

function prettyStream(destination: NodeJS.WritableStream | undefined): NodeJS.WritableStream {
  const pretty = require('pino-pretty') as typeof import('pino-pretty');
  return pretty({
    destination: destination ?? 1,
    sync: true,
    // Colours on a terminal (pino-pretty's own check); plain text into any other stream.
    ...(destination ? { colorize: false } : {}),
    translateTime: 'SYS:HH:MM:ss.l',
    // `[12:00:00.000] INFO: credentials.issued`, then the event's fields, one a line.
    messageFormat: (log, key) => [log.event, log[key]].filter(Boolean).join(': '),
    ignore: 'pid,hostname,service,event',
  });
}
export type { Logger };
