import type { BrokerUrlFrom } from '../../server/config/cli-env.js';
import { BrokerError, InvalidKeyError, isNetworkError, KeyholeClientError, StorageError } from '../index.js';

/** Exit statuses of the `keyhole` command. Stable: scripts may test them. */
export const EXIT = {
  /** Everything asked for was done. */
  ok: 0,
  /** An S3 or other failure not covered below. */
  failed: 1,
  /** Bad command line: unknown command or option, missing argument, invalid key. */
  usage: 2,
  /** The broker rejected the token (401), or dev login was refused. */
  auth: 3,
  /** The broker (403) or S3 (403) denied access: the key is outside your grant. */
  denied: 4,
  /** The key does not exist. */
  notFound: 5,
  /** The broker or S3 could not be reached, or answered 5xx / 429 after retries. */
  unavailable: 6,
  /** A local file could not be read or written. */
  localFile: 7,
  /** Interrupted (Ctrl-C); an unfinished multipart upload was aborted on S3. */
  interrupted: 130,
} as const;

/** A failure the CLI reports in one line with a stable code and exit status. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/**
 * Completes "the Keyhole broker at … could not be reached" with where its URL came from, and how to
 * point the command at another broker (KEYHOLE_BROKER_URL, or --broker).
 */
export function brokerHint(message: string, from: BrokerUrlFrom): string {
  const where =
    from === 'default'
      ? 'it is the default; set KEYHOLE_BROKER_URL or pass --broker to use another broker'
      : from === '--broker'
        ? 'the URL came from --broker (KEYHOLE_BROKER_URL sets it for every command)'
        : 'the URL came from KEYHOLE_BROKER_URL';
  return `${message}; is it running? ${where[0]!.toUpperCase()}${where.slice(1)}`;
}

/**
 * Maps any error to a code, an exit status and a one-line message. Given `from` (where the broker URL
 * came from), an unreachable broker's message says so.
 */
export function classify(err: unknown, from?: BrokerUrlFrom): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof BrokerError) {
    if (err.status === 0) {
      const message = from ? brokerHint(err.message, from) : err.message;
      return new CliError(err.code, EXIT.unavailable, message, { cause: err });
    }
    if (err.status === 401) {
      return new CliError(err.code, EXIT.auth, `the broker rejected your token: ${err.message}`, { cause: err });
    }
    if (err.status === 403) return new CliError(err.code, EXIT.denied, err.message, { cause: err });
    if (err.status === 429 || err.status >= 500)
      return new CliError(err.code, EXIT.unavailable, err.message, { cause: err });
    return new CliError(err.code, EXIT.failed, err.message, { cause: err });
  }
  if (err instanceof InvalidKeyError) return new CliError(err.code, EXIT.usage, err.message, { cause: err });
  if (err instanceof StorageError) {
    if (err.code === 'access_denied') return new CliError(err.code, EXIT.denied, err.message, { cause: err });
    if (err.code === 'not_found') return new CliError(err.code, EXIT.notFound, err.message, { cause: err });
    if (err.code === 'aborted') return new CliError(err.code, EXIT.interrupted, err.message, { cause: err });
    if (err.code === 'expired_credentials') return new CliError(err.code, EXIT.auth, err.message, { cause: err });
    if (isNetworkError(err) || (err.status !== undefined && err.status >= 500)) {
      return new CliError('s3_unavailable', EXIT.unavailable, err.message, { cause: err });
    }
    return new CliError(err.code, EXIT.failed, err.message, { cause: err });
  }
  if (err instanceof KeyholeClientError) return new CliError(err.code, EXIT.failed, err.message, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new CliError('internal_error', EXIT.failed, message.split('\n')[0] ?? 'error', { cause: err });
}
