// The one test for "no answer arrived": used by the client, the CLI's exit codes and the web app's
// messages, so "offline" means the same thing everywhere.

// Node's socket and DNS failures (libuv codes), and undici's own when it gives up on a socket.
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

// What fetch rejects with when nothing answered: Chrome "Failed to fetch", Firefox "NetworkError
// when attempting to fetch resource.", Safari "Load failed" / "The network connection was lost.",
// Node "fetch failed". Any other TypeError is a bug in the caller, not the network.
const FETCH_FAILURE = /fetch|network|load failed/i;

// Deep enough for StorageError -> SDK error -> TypeError('fetch failed') -> Error(ECONNREFUSED).
const MAX_DEPTH = 6;

interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

function isMarker(e: ErrorLike): boolean {
  if (e.name === 'NetworkError') return true;
  if (e.name === 'TypeError' && typeof e.message === 'string' && FETCH_FAILURE.test(e.message)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  // The AWS SDK's connection and socket timeouts; an S3 error answered over HTTP carries a status.
  return e.name === 'TimeoutError' && e.$metadata?.httpStatusCode === undefined;
}

/**
 * True when `err`, or an error in its `cause` chain (or an `AggregateError`'s `errors`), says that no
 * answer arrived: the host could not be reached or resolved, the connection broke or timed out, or
 * `fetch` failed. False for anything the server answered, and for other errors.
 *
 * Matches on error names and codes, plus the fixed texts browsers and Node give fetch's `TypeError`
 * (it has no code in browsers), so a programming `TypeError` is not mistaken for being offline.
 *
 * @example
 * ```ts
 * if (isNetworkError(err)) showBanner('offline')
 * ```
 */
export function isNetworkError(err: unknown): boolean {
  return search(err, 0);
}

function search(err: unknown, depth: number): boolean {
  if (depth >= MAX_DEPTH || err === null || typeof err !== 'object') return false;
  const e = err as ErrorLike;
  if (isMarker(e)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner: unknown) => search(inner, depth + 1))) return true;
  return search(e.cause, depth + 1);
}
