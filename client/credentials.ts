import type { AwsCredentialIdentity } from '@smithy/types';
import { BrokerError, KeyholeClientError } from './errors.js';

/** One kind of access on the granted prefix. */
export type Access = 'read' | 'write' | 'list' | 'delete';

/** What the broker granted, besides the credentials themselves. */
export interface Grant {
  readonly bucket: string;
  readonly region: string;
  /** The caller's key prefix, ending in "/". Keys given to the storage object are relative to it. */
  readonly prefix: string;
  readonly identityId: string;
  readonly access: readonly Access[];
  /** Present for non-AWS backends (Ceph RGW, MinIO...). */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** Extra prefixes when the grant has several (e.g. Amplify's private/ protected/ public/). */
  readonly scopes?: readonly { readonly prefix: string; readonly access: readonly Access[] }[];
}

/** Credentials as the AWS SDK wants them, with `expiration` so it refreshes in time. */
export type BrokerCredentials = AwsCredentialIdentity & { readonly expiration: Date };

/** Options for {@link brokerCredentials}. */
export interface BrokerCredentialsOptions {
  /** Base URL of the broker, e.g. `https://auth.example.com`. `/v1/credentials` is appended. */
  readonly brokerUrl: string;
  /**
   * Returns the user's bearer token (JWT). Called before every broker request; `forceRefresh` is
   * true once after the broker answered 401, so an expired token can be renewed.
   */
  readonly getToken: (options: { forceRefresh: boolean }) => string | Promise<string>;
  /** Ask for less than the full grant. Default: everything granted. */
  readonly access?: readonly Access[];
  /** Refetch when fewer than this many seconds of validity remain. Default 300 (the AWS SDK's own window). */
  readonly refreshBeforeSeconds?: number;
  /**
   * Treat credentials as expiring at most this many seconds after they were fetched, whatever the
   * broker says. Forces more frequent rotation; tests use it to span refreshes quickly. Default: no cap.
   */
  readonly maxLifetimeSeconds?: number;
  /** Retries for network errors, 429 and 5xx, with exponential backoff. Default 2. */
  readonly retries?: number;
  /** Fetch implementation. Default: global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** An AWS SDK credentials provider backed by the broker, with the grant it came with. */
export interface BrokerCredentialsProvider {
  (options?: { forceRefresh?: boolean }): Promise<BrokerCredentials>;
  /** The current grant (fetching credentials first if none are cached). */
  grant(): Promise<Grant>;
  /** Forget cached credentials, e.g. on sign-out. */
  clear(): void;
  /** Number of requests sent to the broker so far. */
  readonly brokerRequests: number;
}

const ACCESS = ['read', 'write', 'list', 'delete'];

interface Cached {
  readonly credentials: BrokerCredentials;
  readonly grant: Grant;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Creates an AWS SDK credentials provider that fetches short-lived, prefix-scoped credentials from
 * the Keyhole broker. It caches them, shares one broker request among concurrent callers, returns
 * `expiration` so the SDK refreshes before expiry (also mid-upload), and corrects for a client clock
 * that differs from the broker's.
 *
 * @example
 * ```ts
 * const credentials = brokerCredentials({ brokerUrl: 'https://auth.example.com', getToken: () => auth.idToken() })
 * const s3 = new S3Client({ region: (await credentials.grant()).region, credentials })
 * ```
 */
export function brokerCredentials(options: BrokerCredentialsOptions): BrokerCredentialsProvider {
  if (!options || typeof options !== 'object') throw new TypeError('options must be an object');
  let endpoint: string;
  try {
    endpoint = new URL('v1/credentials', options.brokerUrl.endsWith('/') ? options.brokerUrl : options.brokerUrl + '/')
      .href;
  } catch {
    throw new TypeError('options.brokerUrl must be an absolute URL such as "https://auth.example.com"');
  }
  if (typeof options.getToken !== 'function')
    throw new TypeError('options.getToken must be a function returning the user\u2019s JWT');
  const access = options.access === undefined ? undefined : [...options.access];
  if (access && (access.length === 0 || !access.every((a) => ACCESS.includes(a)))) {
    throw new TypeError('options.access must be a non-empty array of "read", "write", "list", "delete"');
  }
  const refreshBefore = options.refreshBeforeSeconds ?? 300;
  if (!Number.isFinite(refreshBefore) || refreshBefore < 0)
    throw new RangeError('options.refreshBeforeSeconds must be a number >= 0');
  const cap = options.maxLifetimeSeconds;
  if (cap !== undefined && (!Number.isFinite(cap) || cap <= 0))
    throw new RangeError('options.maxLifetimeSeconds must be a number > 0');
  const retries = options.retries ?? 2;
  if (!Number.isInteger(retries) || retries < 0 || retries > 10)
    throw new RangeError('options.retries must be an integer from 0 to 10');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const getToken = options.getToken;

  let cached: Cached | undefined;
  let inflight: Promise<Cached> | undefined;
  let requests = 0;
  let generation = 0;

  // A failing getToken is the app's sign-in problem, not the network's: report it as is, once.
  async function tokenFor(forceRefresh: boolean): Promise<string> {
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

  function request(token: string): Promise<Response> {
    requests++;
    // `cache` is typed in the DOM's RequestInit but not in Node's; both honour it.
    const init = {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(access ? { access } : {}),
      cache: 'no-store',
      credentials: 'omit',
    };
    return doFetch(endpoint, init as RequestInit);
  }

  async function fetchOnce(): Promise<Cached> {
    let refreshedToken = false;
    for (let attempt = 0; ; attempt++) {
      const sentAt = Date.now();
      const token = await tokenFor(refreshedToken);
      let res: Response;
      try {
        res = await request(token);
      } catch (cause) {
        if (attempt < retries) {
          await sleep(200 * 2 ** attempt);
          continue;
        }
        throw new BrokerError(0, 'broker_unreachable', `the Keyhole broker at ${endpoint} could not be reached`, {
          cause,
        });
      }
      const receivedAt = Date.now();
      if (res.ok) {
        const body = (await res.json()) as {
          credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
        } & Grant;
        // Expiry is the broker's clock; shift it onto ours so a skewed device neither keeps dead
        // credentials nor refreshes in a loop. The Date header has 1 s resolution; ignore < 2 s.
        const serverDate = Date.parse(res.headers.get('date') ?? '');
        const skew = Number.isNaN(serverDate) ? 0 : serverDate - (sentAt + receivedAt) / 2;
        let expires = Date.parse(body.credentials.expiration) - (Math.abs(skew) > 2000 ? skew : 0);
        if (cap !== undefined) expires = Math.min(expires, receivedAt + cap * 1000);
        const { credentials, ...grant } = body;
        return {
          credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            sessionToken: credentials.sessionToken,
            expiration: new Date(expires),
          },
          grant,
        };
      }
      let error: { code?: string; message?: string } = {};
      try {
        error = ((await res.json()) as { error?: typeof error }).error ?? {};
      } catch {
        // Not our JSON (a proxy's HTML page, say): keep the status only.
      }
      const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
      if (res.status === 401 && !refreshedToken) {
        refreshedToken = true;
        continue;
      }
      const retryable = res.status === 429 || res.status >= 500;
      if (retryable && attempt < retries) {
        await sleep(Number.isFinite(retryAfter) ? Math.min(retryAfter, 30) * 1000 : 200 * 2 ** attempt);
        continue;
      }
      throw new BrokerError(
        res.status,
        error.code ?? `http_${res.status}`,
        error.message ?? `the broker answered HTTP ${res.status}`,
        {
          ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
        },
      );
    }
  }

  function current(force: boolean): Promise<Cached> {
    if (!force && cached && cached.credentials.expiration.getTime() - Date.now() > refreshBefore * 1000) {
      return Promise.resolve(cached);
    }
    if (!inflight) {
      const mine = generation;
      inflight = fetchOnce()
        .then((fresh) => {
          if (mine === generation) cached = fresh;
          return fresh;
        })
        .finally(() => {
          inflight = undefined;
        });
    }
    return inflight;
  }

  const provider = (async (opts?: { forceRefresh?: boolean }) =>
    (await current(opts?.forceRefresh === true)).credentials) as BrokerCredentialsProvider;
  Object.defineProperties(provider, {
    grant: { value: async () => (await current(false)).grant },
    clear: {
      value: () => {
        generation++;
        cached = undefined;
        inflight = undefined;
      },
    },
    brokerRequests: { get: () => requests },
  });
  return provider;
}
