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

/** Creates the broker's JSON logger. Level from `KEYHOLE_LOG_LEVEL` semantics: default "info". */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'keyhole-broker' }, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
export type { Logger };
