import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

// Belt and braces: handlers log explicit fields only, but if a secret ever reaches a log call
// under one of these names it is censored rather than written.
const REDACT = [
  'secretAccessKey',
  'sessionToken',
  'token',
  'authorization',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.token',
  '*.authorization',
  'credentials',
  '*.credentials',
  'req.headers.authorization',
  'headers.authorization',
];

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
 */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream, output: LogOutput = 'json'): Logger {
  const options = { level, base: { service: 'keyhole-broker' }, redact: { paths: REDACT, censor: '[redacted]' } };
  const stream = output === 'pretty' ? prettyStream(destination) : destination;
  return stream ? pino(options, stream as pino.DestinationStream) : pino(options);
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
