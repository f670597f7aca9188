import type {
  CredentialsAndIdentityId,
  CredentialsAndIdentityIdProvider,
  GetCredentialsOptions,
} from '@aws-amplify/core';
import { brokerCredentials, type BrokerCredentialsOptions, type Grant } from '../credentials.js';
import { SignedOutError } from '../errors.js';

/** Options for {@link createAmplifyCredentialsProvider}: the same as `brokerCredentials`. */
export type AmplifyCredentialsOptions = BrokerCredentialsOptions;

/** An Amplify JS v6 credentials provider backed by the Keyhole broker. */
export interface KeyholeAmplifyProvider extends CredentialsAndIdentityIdProvider {
  getCredentialsAndIdentityId(options?: Partial<GetCredentialsOptions>): Promise<CredentialsAndIdentityId>;
  /**
   * Forgets credentials and identity (sign-out). Amplify calls it from `Auth.clearCredentials`.
   * Amplify asks the provider before every S3 request, so the next request gets the next user's
   * credentials; a request whose credentials were being fetched during the sign-out rejects with
   * `SignedOutError` (code `signed_out`) instead. Cancel the old user's transfers before signing out:
   * their remaining parts would otherwise be signed with the next user's credentials.
   */
  clearCredentialsAndIdentityId(): void;
  /** Drops the cached credentials so the next call fetches new ones, e.g. after an ExpiredToken error. */
  invalidate(): void;
  /** The grant that came with the current credentials (bucket, region, prefixes, access). */
  grant(): Promise<Grant>;
  /** Requests sent to the broker so far. */
  readonly brokerRequests: number;
}

/**
 * Creates a `CredentialsAndIdentityIdProvider` for Amplify JS v6 that gets credentials and
 * `identityId` from the Keyhole broker. Amplify asks it on every Storage operation, so it caches;
 * it refreshes `refreshBeforeSeconds` (default 300) before expiry, on `forceRefresh`, and after
 * {@link KeyholeAmplifyProvider.invalidate}; concurrent callers share one broker request.
 *
 * @example
 * ```ts
 * import { Amplify } from 'aws-amplify'
 * import { createAmplifyCredentialsProvider } from 'keyhole/amplify'
 *
 * const credentialsProvider = createAmplifyCredentialsProvider({
 *   brokerUrl: 'https://auth.example.com',
 *   getToken: () => myAuth.idToken(),
 * })
 * Amplify.configure(
 *   { Storage: { S3: { bucket: 'uploads', region: 'eu-west-1' } } },
 *   { Auth: { credentialsProvider } },
 * )
 * ```
 */
export function createAmplifyCredentialsProvider(options: AmplifyCredentialsOptions): KeyholeAmplifyProvider {
  // brokerCredentials validates the options (TypeError/RangeError naming the option) and copies them.
  const broker = brokerCredentials(options);
  return {
    async getCredentialsAndIdentityId(request) {
      // Both in one go, grant first: inside the refresh window the second call then joins the
      // request the first one started instead of fetching again. The identity id cannot differ
      // between the two: it changes only with the user, and clear() empties the cache for both.
      // A clear() while they were pending could pair one user's identity id with the other's
      // credentials (or hand the old user's to a request of the new one): refuse that.
      const generation = broker.generation;
      const [grant, credentials] = await Promise.all([
        broker.grant(),
        broker({ forceRefresh: request?.forceRefresh === true }),
      ]);
      if (broker.generation !== generation) throw new SignedOutError('signed out while credentials were being fetched');
      return {
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
          expiration: credentials.expiration,
        },
        identityId: grant.identityId,
      };
    },
    clearCredentialsAndIdentityId: () => broker.clear(),
    invalidate: () => broker.clear(),
    grant: () => broker.grant(),
    get brokerRequests() {
      return broker.brokerRequests;
    },
  };
}

// S3/STS codes for credentials that are no longer valid; Amplify's own retry treats these the same.
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);

/** True when an Amplify Storage (or AWS SDK) error means the credentials have expired. */
export function isExpiredTokenError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof e.name === 'string' ? e.name : typeof e.code === 'string' ? e.code : '';
  return EXPIRED.has(name) || (name.includes('Signature') && /expired/i.test(String(e.message ?? '')));
}

/**
 * Runs an Amplify Storage operation; when it fails because the credentials expired (a device that
 * slept past expiry, say), invalidates the provider's cache and runs it once more.
 * Amplify retries such errors itself but asks the provider without `forceRefresh`, so the cache
 * would hand back the same dead credentials.
 *
 * @example
 * ```ts
 * const result = await retryOnExpiredToken(credentialsProvider, () => downloadData({ path }).result)
 * ```
 */
export async function retryOnExpiredToken<T>(
  provider: KeyholeAmplifyProvider,
  operation: () => Promise<T>,
): Promise<T> {
  if (!provider || typeof provider.invalidate !== 'function') {
    throw new TypeError('provider must come from createAmplifyCredentialsProvider(...)');
  }
  if (typeof operation !== 'function') throw new TypeError('operation must be a function returning a promise');
  try {
    return await operation();
  } catch (err) {
    if (!isExpiredTokenError(err)) throw err;
    provider.invalidate();
    return operation();
  }
}
