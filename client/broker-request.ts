// One credentials request to the broker, with what makes it dependable on a flaky network: a fresh
// token after a 401, backoff retries for network errors, 429 and 5xx, and the broker's Date header
// for clock skew. Caching and sharing among callers are credentials.ts's job.
import { clockSkewMs } from './clock-skew.js';
import type { BrokerSettings } from './credentials-options.js';
import { BrokerError, KeyholeClientError } from './errors.js';
import { brokerErrorFrom, parseCredentialsResponse } from './broker-response.js';
import type { CredentialsResponse } from './protocol/credentials.js';

/** A validated credentials response and when it arrived. */
export interface BrokerAnswer {
  readonly response: CredentialsResponse;
  /** Local time (ms) when the answer's headers arrived. */
  readonly receivedAt: number;
  /** How far the broker's clock is ahead of ours, in ms (see {@link clockSkewMs}). */
  readonly skewMs: number;
}

/** Longest wait a 429/503 `Retry-After` can impose between two attempts. */
const MAX_RETRY_AFTER_SECONDS = 30;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function backoffMs(attempt: number): number {
  return 200 * 2 ** attempt;
}

// A failing getToken is the app's sign-in problem, not the network's: report it as is, once.
async function tokenFrom(getToken: BrokerSettings['getToken'], forceRefresh: boolean): Promise<string> {
  let token: unknown;
  try {
    token = await getToken({ forceRefresh });
  } catch (cause) {
    throw new KeyholeClientError(
      'token_unavailable',
      'getToken() failed: the user is not signed in or the token could not be renewed',
      { cause },
    );
  }
  if (typeof token !== 'string' || token === '') {
    throw new KeyholeClientError('token_unavailable', 'getToken() must return a non-empty JWT string');
  }
  return token;
}

function send(settings: BrokerSettings, token: string): Promise<Response> {
  // `cache` is typed in the DOM's RequestInit but not in Node's; both honour it.
  const init = {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(settings.access ? { access: settings.access } : {}),
    cache: 'no-store',
    credentials: 'omit',
  };
  return settings.fetch(settings.endpoint, init as RequestInit);
}

function unreachable(endpoint: string, cause: unknown): BrokerError {
  return new BrokerError(0, 'broker_unreachable', `the Keyhole broker at ${endpoint} could not be reached`, { cause });
}

/** How long the CORS probe may take, in ms. */
const PROBE_TIMEOUT_MS = 5000;

/**
 * In a page whose origin is not the broker's, a fetch that fails may have been blocked by the
 * browser (no CORS headers for this origin) rather than by the network: the page cannot tell, the
 * error is the same. A `no-cors` request to the broker's `/healthz` can: it resolves with an opaque
 * response when something answered there, and fails like the original when nothing did. The
 * broker answering it while every credentials request failed means the browser blocked those.
 */
async function blockedByCors(settings: BrokerSettings): Promise<string | undefined> {
  const page = (globalThis as { location?: { origin?: unknown } }).location?.origin;
  if (typeof page !== 'string' || page === 'null' || page === new URL(settings.endpoint).origin) return undefined;
  try {
    const init = { method: 'GET', mode: 'no-cors', cache: 'no-store', credentials: 'omit' };
    const probe = settings.fetch(new URL('../healthz', settings.endpoint).href, {
      ...init,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    } as RequestInit);
    return (await probe).type === 'opaque' ? page : undefined;
  } catch {
    return undefined;
  }
}

/** `broker_unreachable`, or `cors_blocked` when the broker answers but the browser hides its answers. */
async function failure(settings: BrokerSettings, cause: unknown): Promise<BrokerError> {
  const page = await blockedByCors(settings);
  if (page === undefined) return unreachable(settings.endpoint, cause);
  const broker = new URL(settings.endpoint).origin;
  return new BrokerError(
    0,
    'cors_blocked',
    `the Keyhole broker at ${broker} answered, but the browser blocked its answers to this page: ` +
      `add this page's origin, ${page}, to the broker's KEYHOLE_CORS_ORIGINS (options.corsOrigins)`,
    { cause },
  );
}

/**
 * Asks the broker for credentials until it answers with a valid credentials response, retrying
 * network failures, 429 and 5xx up to `settings.retries` times, and a 401 once with a fresh token.
 * Throws {@link BrokerError} (also `broker_unreachable` or `cors_blocked`, and {@link InvalidResponseError} which is
 * never retried), or `token_unavailable` when `getToken` fails. `onSend` runs before each request.
 */
export async function requestCredentials(settings: BrokerSettings, onSend: () => void): Promise<BrokerAnswer> {
  let refreshedToken = false;
  for (let attempt = 0; ; attempt++) {
    const sentAt = Date.now();
    const token = await tokenFrom(settings.getToken, refreshedToken);
    let res: Response;
    let text = '';
    let receivedAt = 0;
    try {
      onSend();
      res = await send(settings, token);
      receivedAt = Date.now();
      // The body of a success is part of the answer: a connection that breaks while it is read
      // is a network failure like any other.
      if (res.ok) text = await res.text();
    } catch (cause) {
      if (attempt < settings.retries) {
        await sleep(backoffMs(attempt));
        continue;
      }
      throw await failure(settings, cause);
    }
    if (res.ok) {
      const response = parseCredentialsResponse(text, res.status, settings.endpoint);
      return { response, receivedAt, skewMs: clockSkewMs(res.headers.get('date'), sentAt, receivedAt) };
    }
    const error = await brokerErrorFrom(res);
    if (res.status === 401 && !refreshedToken) {
      refreshedToken = true;
      continue;
    }
    if ((res.status === 429 || res.status >= 500) && attempt < settings.retries) {
      const wait = error.retryAfterSeconds;
      await sleep(wait === undefined ? backoffMs(attempt) : Math.min(wait, MAX_RETRY_AFTER_SECONDS) * 1000);
      continue;
    }
    throw error;
  }
}
