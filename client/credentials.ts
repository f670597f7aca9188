import type { AwsCredentialIdentity } from '@smithy/types';
import { requestCredentials, type BrokerAnswer } from './broker-request.js';
import { localExpiry } from './clock-skew.js';
import { brokerSettings } from './credentials-options.js';
import type { Access } from './protocol/access.js';
import type { CredentialsResponse } from './protocol/credentials.js';
import { confirmUpload, type UploadVerdict } from './upload-confirm.js';

/** `T` with every property and array read-only, all the way down. */
type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * What the broker granted, besides the credentials themselves: `bucket`, `region`, `prefix` (the
 * caller's key prefix, ending in "/"; keys given to the storage object are relative to it),
 * `identityId`, `access`, and for some grants `scopes` (extra prefixes, e.g. Amplify's private/
 * protected/ public/), `endpoint` and `forcePathStyle` (non-AWS backends: Ceph RGW, MinIO...).
 * Derived from the protocol's credentials response, so a field added there appears here.
 */
export type Grant = DeepReadonly<Omit<CredentialsResponse, 'credentials'>>;

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
   * the previous user refuses with `SignedOutError`. Optional so wrappers may leave it out; a
   * storage object then notices the change of user from the grant's `identityId` instead.
   */
  readonly generation?: number;
  /**
   * Always `true`: tells the AWS SDK not to wrap this provider in its own cache (see the comment
   * where it is set). The provider caches, and is asked again on every request.
   */
  readonly memoized?: boolean;
  /**
   * Asks the broker for its verdict on an uploaded object (`POST /v1/uploads/complete`), `key`
   * relative to `prefix` (default: the grant's first). `storage.upload(…, { confirm: true })` calls it.
   * Optional so wrappers may leave it out.
   */
  readonly confirmUpload?: (key: string, prefix?: string) => Promise<UploadVerdict>;
}

interface Cached {
  readonly credentials: BrokerCredentials;
  readonly grant: Grant;
}

function toCached({ response, receivedAt, skewMs }: BrokerAnswer, capSeconds: number | undefined): Cached {
  const { credentials, ...grant } = response;
  return {
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: localExpiry(credentials.expiration, skewMs, receivedAt, capSeconds),
    },
    grant,
  };
}

/**
 * Creates an AWS SDK credentials provider that fetches short-lived, prefix-scoped credentials from
 * the Keyhole broker. It caches them, shares one broker request among concurrent callers, returns
 * `expiration` so the SDK refreshes before expiry (also mid-upload), and corrects for a client clock
 * that differs from the broker's. A broker answer that is not a valid credentials response is
 * refused with `InvalidResponseError` (code `invalid_response`).
 *
 * @example
 * ```ts
 * const credentials = brokerCredentials({ brokerUrl: 'https://auth.example.com', getToken: () => auth.idToken() })
 * const s3 = new S3Client({ region: (await credentials.grant()).region, credentials })
 * ```
 */
export function brokerCredentials(options: BrokerCredentialsOptions): BrokerCredentialsProvider {
  const settings = brokerSettings(options);
  let cached: Cached | undefined;
  let inflight: Promise<Cached> | undefined;
  let requests = 0;
  let generation = 0;

  function current(force: boolean): Promise<Cached> {
    const remainingMs = cached ? cached.credentials.expiration.getTime() - Date.now() : 0;
    if (!force && cached && remainingMs > settings.refreshBeforeSeconds * 1000) return Promise.resolve(cached);
    if (!inflight) {
      const mine = generation;
      const started: Promise<Cached> = requestCredentials(settings, () => requests++)
        .then((answer) => {
          const next = toCached(answer, settings.maxLifetimeSeconds);
          if (mine === generation) cached = next;
          return next;
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
    confirmUpload: { value: (key: string, prefix?: string) => confirmUpload(settings, key, prefix) },
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
