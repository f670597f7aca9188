// The per-identity S3 client lifecycle. Each signed-in identity gets its own S3 client, bound to
// the provider generation and grant it was made for; on sign-out, or when the provider starts
// speaking for someone else, that client is retired: it refuses to sign, and its uploads stop.
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity, Pluggable } from '@smithy/types';
import type { BrokerCredentials, BrokerCredentialsProvider, Grant } from './credentials.js';
import { SignedOutError } from './errors.js';

/** What an S3 client is given to sign with: fixed keys, or a provider asked before each request. */
export type S3Signer =
  AwsCredentialIdentity | ((options?: { forceRefresh?: boolean }) => Promise<AwsCredentialIdentity>);

/** Makes an S3 client for a grant. */
export type S3ClientFactory = (grant: Grant, signer: S3Signer) => S3Client;

/** Extra S3Client settings a storage object accepts; the grant decides the rest. */
export type ExtraS3Config = Omit<S3ClientConfig, 'credentials' | 'region' | 'endpoint' | 'forcePathStyle'>;

/**
 * Makes S3 clients for a grant: its region and endpoint, the caller's `extra` settings, and the
 * given plugins (ACL guard, multipart watcher) on every client.
 */
export function s3ClientFactory(extra: ExtraS3Config, plugins: readonly Pluggable<any, any>[]): S3ClientFactory {
  return (grant, signer) => {
    const client = new S3Client({
      // Non-AWS backends (Ceph RGW) reject the aws-chunked trailing checksums newer SDKs send.
      ...(grant.endpoint
        ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
        : {}),
      ...extra,
      region: grant.region,
      credentials: signer,
      ...(grant.endpoint ? { endpoint: grant.endpoint, forcePathStyle: grant.forcePathStyle ?? true } : {}),
    });
    for (const plugin of plugins) client.middlewareStack.use(plugin);
    return client;
  };
}

/** Identifies what a client was made for: provider generation, identity, bucket, prefix, endpoint. */
export function sessionKey(grant: Grant, generation: number | undefined): string {
  return JSON.stringify([
    generation ?? null,
    grant.identityId,
    grant.bucket,
    grant.prefix,
    grant.region,
    grant.endpoint ?? null,
    grant.forcePathStyle ?? null,
  ]);
}

/**
 * One signed-in identity's S3 client. It is retired on sign-out or when the provider's identity
 * changes; from then on its credentials provider refuses with SignedOutError.
 */
export class S3Session {
  /** See {@link sessionKey}. */
  readonly key: string;
  readonly generation: number | undefined;
  readonly grant: Grant;
  readonly client: S3Client;
  readonly #newClient: S3ClientFactory;
  #retired = false;
  /** Controllers of this session's running uploads, aborted on retirement. */
  readonly #uploads = new Set<AbortController>();
  /**
   * The credentials last handed to this client. Kept only so that uploads stopped by a sign-out can
   * abort their multipart upload as the user who started it; dropped when they are done.
   */
  #last: AwsCredentialIdentity | undefined;

  constructor(
    grant: Grant,
    generation: number | undefined,
    newClient: S3ClientFactory,
    signerFor: (session: S3Session) => S3Signer,
  ) {
    this.key = sessionKey(grant, generation);
    this.generation = generation;
    this.grant = grant;
    this.#newClient = newClient;
    this.client = newClient(grant, signerFor(this));
  }

  /** True once signed out or superseded: the client refuses to sign. */
  get retired(): boolean {
    return this.#retired;
  }

  /** Records the credentials the client is about to sign with (see `#last`). */
  signedWith(credentials: AwsCredentialIdentity): void {
    this.#last = credentials;
  }

  /** Stops the session: its client refuses from now on, its uploads are aborted. Idempotent. */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    for (const controller of this.#uploads) controller.abort();
    if (this.#uploads.size === 0) this.#finish();
  }

  /** Registers a running upload, aborted on retirement. Call the returned function once it has settled. */
  trackUpload(controller: AbortController): () => void {
    this.#uploads.add(controller);
    return () => {
      this.#uploads.delete(controller);
      if (this.#retired && this.#uploads.size === 0) this.#finish();
    };
  }

  /**
   * After a sign-out stopped an upload, the session's client refuses; after the broker failed to
   * renew the credentials, it would ask the broker again. This one-off client signs with the keys
   * the upload was last signed with, to abort its multipart upload. Destroy it after use.
   */
  cleanupClient(): S3Client | undefined {
    return this.#last ? this.#newClient(this.grant, this.#last) : undefined;
  }

  /** Once a retired session has no upload left to clean up: forget its keys, close its sockets. */
  #finish(): void {
    this.#last = undefined;
    this.client.destroy();
  }
}

/** What an operation runs with: the current session, its client and grant. */
export interface OperationContext {
  readonly session: S3Session;
  readonly client: S3Client;
  readonly grant: Grant;
}

/** Keeps the current identity's {@link S3Session}, and retires it when that identity is gone. */
export class S3Sessions {
  readonly #credentials: BrokerCredentialsProvider;
  readonly #newClient: S3ClientFactory;
  #current: S3Session | undefined;
  /** Counts storage sign-outs, so an operation that straddles one is stopped. */
  #signOuts = 0;

  constructor(credentials: BrokerCredentialsProvider, newClient: S3ClientFactory) {
    this.#credentials = credentials;
    this.#newClient = newClient;
  }

  /** The session of the current grant, made on first use or when the identity changed. */
  async context(): Promise<OperationContext> {
    const credentials = this.#credentials;
    const generation = credentials.generation;
    const epoch = this.#signOuts;
    const grant = await credentials.grant();
    if (credentials.generation !== generation || this.#signOuts !== epoch) {
      throw new SignedOutError('signed out while the operation was starting');
    }
    if (this.#current?.key !== sessionKey(grant, generation)) {
      if (this.#current) this.#retire(this.#current);
      this.#current = new S3Session(grant, generation, this.#newClient, (s) => this.#signer(s));
    }
    const session = this.#current;
    return { session, client: session.client, grant };
  }

  /** Forgets the credentials and retires the current session. */
  signOut(): void {
    this.#signOuts++;
    this.#credentials.clear();
    if (this.#current) this.#retire(this.#current);
  }

  #retire(s: S3Session): void {
    if (this.#current === s) this.#current = undefined;
    s.retire();
  }

  // The SDK would cache whatever identity the provider gives until ~5 min before expiry (see
  // `memoized` in credentials.ts for the file and line); `memoized: true` makes it ask this
  // function on every request instead, so the session's state is checked before each signature.
  #signer(s: S3Session): S3Signer {
    const credentials = this.#credentials;
    return Object.assign(
      async (o?: { forceRefresh?: boolean }): Promise<BrokerCredentials> => {
        if (!s.retired && credentials.generation !== s.generation) this.#retire(s);
        if (s.retired) throw new SignedOutError();
        const [creds, current] = await Promise.all([
          credentials(o?.forceRefresh ? { forceRefresh: true } : undefined),
          credentials.grant(),
        ]);
        if (
          s.retired ||
          credentials.generation !== s.generation ||
          sessionKey(current, credentials.generation) !== s.key
        ) {
          // Signed out, or the provider now speaks for someone else (credentials.clear() and a new
          // getToken): this client must not sign with the new user's keys, nor keep the old ones.
          this.#retire(s);
          throw new SignedOutError();
        }
        s.signedWith(creds);
        return creds;
      },
      { memoized: true },
    );
  }
}
