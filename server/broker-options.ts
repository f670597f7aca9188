import { withKeyAlgorithms } from './auth/key-algorithms.js';
import type { TrustedIssuer } from './auth/verify-token.js';
import type { BucketInspector } from './bucket-safety.js';
import { DURATION_SECONDS } from './config/formats.js';
import { compileGrants, type CompiledRule, type GrantRule } from './grants.js';
import type { RateLimit } from './http/rate-limit.js';
import { checkTrustProxy, type TrustProxy } from './http/trust-proxy.js';
import type { Logger } from './logger.js';
import type { SharedState } from './shared/state.js';
import { checkIssuerSeparation } from './policy/issuer-separation.js';
import type { CredentialVendor } from './vendors/vendor.js';
import type { UploadHook } from './events/dispatch.js';
import type { UploadsOptions } from './uploads/options.js';

/**
 * Options for {@link createBroker}. Only `grants`, `vendor` and `region` are required, plus at
 * least one trusted issuer or `devLogin: true`.
 */
export interface BrokerOptions {
  /** Token issuers whose JWTs are accepted. */
  readonly issuers?: readonly TrustedIssuer[];
  /** Clock tolerance for `exp`/`nbf`, in seconds. Default 30. */
  readonly clockToleranceSeconds?: number;
  /** Longest accepted token lifetime (`exp` ahead, `iat` behind), in seconds. Default 86400. */
  readonly maxTokenAgeSeconds?: number;
  /**
   * How long a verified token is remembered, so a client presenting it again skips the signature
   * check (expiry and age limits are still checked on every use), in seconds, 0 to 300. A key
   * removed from a JWKS stops being trusted for tokens already seen within this time. Default 60;
   * 0 turns the cache off.
   */
  readonly verifiedTokenCacheSeconds?: number;
  /** Longest accepted bearer token, in bytes. Default 8192. */
  readonly maxTokenBytes?: number;
  /** Grant rules; the first whose `when` matches the caller's claims applies. */
  readonly grants: readonly GrantRule[];
  /** Where credentials come from, e.g. `createStsVendor(...)`. */
  readonly vendor: CredentialVendor;
  /** Region reported to clients. */
  readonly region: string;
  /** S3 endpoint reported to clients for non-AWS backends; also switches on `forcePathStyle`. */
  readonly s3Endpoint?: string;
  /** Path-style addressing for the S3 endpoint. Default: true when `s3Endpoint` is set. */
  readonly forcePathStyle?: boolean;
  /** Credential lifetime in seconds, 900 to 43200. Default 900. */
  readonly durationSeconds?: number;
  /**
   * Mount POST /v1/dev/token, signing tokens for any subject, for loopback callers only. Local
   * development only: refused together with `issuers`. Dev identities get prefixes of their own
   * (`dev-<sub>`), and their extra claims never match a grant rule's `when`. Default false.
   */
  readonly devLogin?: boolean;
  /** Browser origins allowed to call the broker (exact match). Default: none. */
  readonly corsOrigins?: readonly string[];
  /** Per-subject and per-address limits, or false to disable. Default 60/min per subject, 600/min per address. */
  readonly rateLimit?: false | { readonly perSubject?: RateLimit | false; readonly perAddress?: RateLimit | false };
  /**
   * Which proxies may report the client address in `X-Forwarded-For`: their number (hops in front
   * of the broker) or their addresses/CIDRs. `true` is refused: it trusts what the client writes.
   * Default false (the TCP peer is the client).
   */
  readonly trustProxy?: TrustProxy;
  /**
   * How `/readyz` learns whether the grants' buckets let a vended credential publish objects
   * through ACLs: a {@link BucketInspector} (`createBucketInspector(...)`), or `'accept-risk'` to
   * become ready without that guarantee. Default: unchecked, and `/readyz` answers 503.
   */
  readonly bucketCheck?: BucketInspector | 'accept-risk';
  /** Reuse identical credentials while half their lifetime remains. Default `{ maxEntries: 10000 }`. */
  readonly credentialCache?: false | { readonly maxEntries: number };
  /**
   * Share the credential cache and the rate limits with other instances through Redis
   * (`createSharedState(...)`). While Redis is down or slow the broker uses its in-process state.
   * The caller closes it. Default: in-process only.
   */
  readonly sharedState?: SharedState;
  /** Serve Prometheus metrics at GET /metrics. Default false. */
  readonly metrics?: boolean;
  /**
   * Also serve `GET /v1/credentials/aws-sdk`: the same credentials in the format of the AWS SDKs'
   * HTTP credential provider (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), for apps that use an AWS SDK
   * without keyhole/client. Default false.
   */
  readonly awsSdkRoute?: boolean;
  /** Logger. Default: pino JSON on stdout at level "info". */
  readonly logger?: Logger;
  /** Largest accepted request body, in bytes. Default 2048. */
  readonly maxBodyBytes?: number;
  /**
   * Check uploads after they land (`POST /v1/uploads/complete`): the broker's own S3 access, and
   * where rejected objects go. Required when a grant scope has `uploads` rules. Default: no route.
   */
  readonly uploads?: UploadsOptions;
  /**
   * Called once per upload outcome (`upload.accepted` / `upload.rejected`), after the verdict and
   * without delaying the answer; errors are logged, not retried. Needs `uploads`.
   */
  readonly onUpload?: UploadHook;
}

/** {@link BrokerOptions} after validation, with every default applied. */
export interface BrokerSettings {
  readonly vendor: CredentialVendor;
  readonly region: string;
  readonly rules: readonly CompiledRule[];
  readonly durationSeconds: number;
  /** The endpoint's origin, when one was given. */
  readonly s3Endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly maxBodyBytes: number;
  readonly corsOrigins: readonly string[];
  readonly perSubject: RateLimit | false;
  readonly perAddress: RateLimit | false;
  /** Most cached credentials, or false for no cache. */
  readonly cacheMaxEntries: number | false;
  readonly trustProxy: false | number | string[];
  readonly bucketCheck: BucketInspector | 'accept-risk' | undefined;
  /** The caller's trusted issuers (the dev login's own is added when the broker is built). */
  readonly issuers: readonly TrustedIssuer[];
  readonly devLogin: boolean;
  readonly metrics: boolean;
  readonly awsSdkRoute: boolean;
  readonly sharedState: SharedState | undefined;
}

const DEFAULT_RATE = { perSubject: { limit: 60, windowSeconds: 60 }, perAddress: { limit: 600, windowSeconds: 60 } };

function checkRate(value: unknown, name: string): RateLimit | false {
  if (value === false) return false;
  const v = value as RateLimit;
  if (!v || !Number.isInteger(v.limit) || v.limit < 1 || !Number.isInteger(v.windowSeconds) || v.windowSeconds < 1) {
    throw new TypeError(`${name} must be false or { limit, windowSeconds } with positive integers`);
  }
  return { limit: v.limit, windowSeconds: v.windowSeconds };
}

function checkVendor(vendor: CredentialVendor | undefined): CredentialVendor {
  if (!vendor || typeof vendor.issue !== 'function' || typeof vendor.identityIdFor !== 'function') {
    throw new TypeError('options.vendor must be a credential vendor such as createStsVendor(...)');
  }
  return vendor;
}

function checkIntegerOption(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`options.${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

// Clients get the origin only: a path or query on the endpoint would be ignored by the SDK anyway.
function checkS3Endpoint(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = URL.canParse(value) ? new URL(value) : undefined;
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new TypeError('options.s3Endpoint must be an absolute http(s) URL');
  }
  return parsed.origin;
}

function checkCorsOrigins(value: readonly string[] | undefined): string[] {
  const corsOrigins = [...(value ?? [])];
  for (const origin of corsOrigins) {
    if (typeof origin !== 'string' || origin === '*' || new URL(origin).origin !== origin) {
      throw new TypeError(
        `options.corsOrigins entries must be exact origins like "https://app.example.com"; got "${String(origin)}"`,
      );
    }
  }
  return corsOrigins;
}

function checkRateLimits(value: BrokerOptions['rateLimit']): Pick<BrokerSettings, 'perSubject' | 'perAddress'> {
  const rate =
    value === false ? { perSubject: false as const, perAddress: false as const } : { ...DEFAULT_RATE, ...value };
  return {
    perSubject: checkRate(rate.perSubject, 'options.rateLimit.perSubject'),
    perAddress: checkRate(rate.perAddress, 'options.rateLimit.perAddress'),
  };
}

function checkCache(value: BrokerOptions['credentialCache']): number | false {
  const cacheOption = value ?? { maxEntries: 10000 };
  if (cacheOption !== false && (!Number.isInteger(cacheOption.maxEntries) || cacheOption.maxEntries < 1)) {
    throw new RangeError('options.credentialCache.maxEntries must be a positive integer');
  }
  return cacheOption === false ? false : cacheOption.maxEntries;
}

function checkSharedState(value: unknown): SharedState | undefined {
  if (value === undefined) return undefined;
  const v = value as Partial<SharedState>;
  if (!v || typeof v.usable !== 'function' || typeof v.status !== 'function' || !v.client) {
    throw new TypeError('options.sharedState must come from createSharedState(...)');
  }
  return value as SharedState;
}

function checkBoolean(value: unknown, name: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean`);
  return value === true;
}

function checkBucketCheck(value: unknown): BrokerSettings['bucketCheck'] {
  if (value !== undefined && value !== 'accept-risk' && typeof value !== 'function') {
    throw new TypeError('options.bucketCheck must be a bucket inspector (createBucketInspector(...)) or "accept-risk"');
  }
  return value as BrokerSettings['bucketCheck'];
}

function checkIssuers(options: BrokerOptions, rules: readonly CompiledRule[]): readonly TrustedIssuer[] {
  const issuers = options.issuers ?? [];
  if (options.devLogin === true && issuers.length > 0) {
    throw new TypeError(
      'options.devLogin cannot be combined with options.issuers: dev login signs in anyone as anyone, ' +
        'so it would reach real users; run a separate local broker for development',
    );
  }
  if (issuers.length === 0 && options.devLogin !== true)
    throw new TypeError('options.issuers must list at least one trusted issuer (or set devLogin: true)');
  checkIssuerSeparation(
    issuers.length,
    rules.flatMap((r) => r.scopes.map((s) => s.template)),
  );
  return issuers.map(withKeyAlgorithms);
}

/**
 * Validates {@link BrokerOptions} once, in a fixed order, and applies the defaults. A misuse throws
 * TypeError or RangeError naming the option; `options` is not modified. The issuers' own entries
 * are checked when their verifier is built.
 */
export function checkBrokerOptions(options: BrokerOptions): BrokerSettings {
  if (!options || typeof options !== 'object') throw new TypeError('options must be an object');
  const vendor = checkVendor(options.vendor);
  if (typeof options.region !== 'string' || options.region === '')
    throw new TypeError('options.region must be a non-empty string');
  const rules = compileGrants(options.grants);
  const durationSeconds = checkIntegerOption(
    options.durationSeconds ?? DURATION_SECONDS.default,
    'durationSeconds',
    DURATION_SECONDS.min,
    DURATION_SECONDS.max,
  );
  const s3Endpoint = checkS3Endpoint(options.s3Endpoint);
  const forcePathStyle = options.forcePathStyle ?? s3Endpoint !== undefined;
  const maxBodyBytes = checkIntegerOption(options.maxBodyBytes ?? 2048, 'maxBodyBytes', 64, 65536);
  const corsOrigins = checkCorsOrigins(options.corsOrigins);
  const { perSubject, perAddress } = checkRateLimits(options.rateLimit);
  const cacheMaxEntries = checkCache(options.credentialCache);
  const trustProxy = checkTrustProxy(options.trustProxy, 'options.trustProxy');
  const bucketCheck = checkBucketCheck(options.bucketCheck);
  const issuers = checkIssuers(options, rules);
  vendor.checkGrants?.(options.grants);
  return {
    vendor,
    region: options.region,
    rules,
    durationSeconds,
    s3Endpoint,
    forcePathStyle,
    maxBodyBytes,
    corsOrigins,
    perSubject,
    perAddress,
    cacheMaxEntries,
    trustProxy,
    bucketCheck,
    issuers,
    devLogin: options.devLogin === true,
    metrics: Boolean(options.metrics),
    awsSdkRoute: checkBoolean(options.awsSdkRoute, 'awsSdkRoute'),
    sharedState: checkSharedState(options.sharedState),
  };
}
