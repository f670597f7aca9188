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

/**
 * Thrown (code `signed_out`) by an S3 client or operation that belonged to an identity which has
 * since signed out: a `storage.client()` reference kept across `storage.signOut()` /
 * `credentials.clear()`, an upload still running at sign-out, or a call that straddled the sign-out.
 * No request is signed for it; ask `storage.client()` again for a client of the current user.
 */
export class SignedOutError extends KeyholeClientError {
  constructor(
    message = 'signed out: this client belonged to a user who has since signed out',
    options?: { cause?: unknown },
  ) {
    super('signed_out', message, options);
  }
}

/** An AWS SDK credentials provider backed by the broker, with the grant it came with. */
export interface BrokerCredentialsProvider {
  (options?: { forceRefresh?: boolean }): Promise<BrokerCredentials>;
  /** The current grant (fetching credentials first if none are cached). */
  grant(): Promise<Grant>;
  /**
   * Sign-out: forgets cached credentials and grant and ignores a broker answer still in flight; the
   * next call fetches anew with `getToken`. SDK clients built on this provider sign their next
   * request with the new credentials (the provider is asked on every request, see `memoized`), and
   * a `createStorage` object drops its S3 client and stops the old user's uploads. Credentials
   * already issued stay valid until they expire: they cannot be revoked.
   */
  clear(): void;
  /** Number of requests sent to the broker so far. */
  readonly brokerRequests: number;
  /**
   * Increases by one on every `clear()`. `createStorage` binds each S3 client to it, so a client of
   * the previous user refuses with {@link SignedOutError}. Optional so wrappers may leave it out; a
   * storage object then notices the change of user from the grant's `identityId` instead.
   */
  readonly generation?: number;
  /**
   * Always `true`: tells the AWS SDK not to wrap this provider in its own cache (see the comment
   * where it is set). The provider caches, and is asked again on every request.
   */
  readonly memoized?: boolean;
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
      const started: Promise<Cached> = fetchOnce()
        .then((fresh) => {
          if (mine === generation) cached = fresh;
          return fresh;
        })
        .finally(() => {
          // After clear() a newer request may be in flight: leave that one to its own callers.
          if (inflight === started) inflight = undefined;
        });
      inflight = started;
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
    generation: { get: () => generation },
    // Without this flag the SDK wraps any `credentials` function in @smithy/core's
    // memoizeIdentityProvider (@aws-sdk/core 3.981.0,
    // dist-es/submodules/httpAuthSchemes/aws_sdk/resolveAwsSdkSigV4Config.js line 109,
    // dist-cjs/submodules/httpAuthSchemes/index.js line 307: `if (!credentials?.memoized)`).
    // That wrapper (@smithy/core 3.41.0, dist-es/legacy-root-exports/util-identity-and-auth/
    // memoizeIdentityProvider.js lines 38-53; dist-cjs/index.js lines 308-325) keeps the identity it
    // got and asks the provider again only on forceRefresh or once fewer than EXPIRATION_MS = 300 s
    // of validity remain (line 4; dist-cjs line 274). So after clear() every existing S3Client went
    // on signing with the previous user's keys until ~5 min before their expiry. With `memoized`
    // set, the SDK uses this function as is (line 113 / 311) and calls it for every request; the
    // cache above answers it, with the same 300 s refresh window by default. The SDK then assigns
    // `memoized = true` itself (line 128 / 326), so the property must stay writable.
    memoized: { value: true, enumerable: true, writable: true },
  });
  return provider;
}
