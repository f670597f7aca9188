import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';
import { AuthenticationError, brokerError, KeyholeError, type BrokerErrorCodeWithStatus } from '../errors.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/** Asymmetric algorithms only: with no shared secret, HS256-with-the-public-key confusion cannot occur. */
export const DEFAULT_ALGORITHMS = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]);

/** Where an issuer's verification keys come from: exactly one of these. */
export type IssuerKeys =
  | { readonly jwksUrl: string | URL; readonly jwksCooldownSeconds?: number }
  | { readonly jwks: JSONWebKeySet }
  | { readonly publicKey: CryptoKey | KeyObject | JWK | string };

/** A token issuer the broker trusts. */
export type TrustedIssuer = {
  /** Exact `iss` claim value. */
  readonly issuer: string;
  /** Accepted `aud` value(s). */
  readonly audience: string | readonly string[];
  /** Allowed JWS algorithms. Default: {@link DEFAULT_ALGORITHMS}. */
  readonly algorithms?: readonly string[];
} & IssuerKeys;

/** Options for {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  readonly issuers: readonly TrustedIssuer[];
  /** Accepted clock difference for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  readonly clockToleranceSeconds?: number;
  /** Longest accepted token, in bytes. Default 8192. */
  readonly maxTokenBytes?: number;
  /**
   * Longest accepted token lifetime, in seconds: a token whose `exp` lies further ahead than this,
   * or whose `iat` lies further back, is refused (`token_lifetime_too_long`, `token_too_old`).
   * Default 86400 (24 h).
   */
  readonly maxTokenAgeSeconds?: number;
  /**
   * Most verified tokens remembered, so a token presented again skips its signature check (see
   * {@link VerifiedTokenCache}: successes only, same issuer checks, `exp` and age limits re-checked
   * on every use). Default 10000; 0 turns the cache off.
   */
  readonly verifiedTokenCacheMaxEntries?: number;
  /**
   * Longest time a verified token is remembered, in seconds: a key removed from a JWKS stops being
   * trusted for tokens already seen within this time (after the key set itself is refetched).
   * Default 60; 0 turns the cache off.
   */
  readonly verifiedTokenCacheSeconds?: number;
  /** Clock, for tests. Default `() => new Date()`. */
  readonly now?: () => Date;
}

/** A verified token's claims. `sub` is always a string; `iss` is always one of the trusted issuers. */
export type VerifiedClaims = JWTPayload & { readonly sub: string; readonly iss: string };

export type TokenVerifier = (token: string) => Promise<VerifiedClaims>;

const KEY_SOURCES = ['jwksUrl', 'jwks', 'publicKey'] as const;

type ResolvedKey = JWTVerifyGetKey | CryptoKey | KeyObject;

// Validates synchronously (so a factory misuse throws at once) and returns the key lazily.
function keyResolver(issuer: TrustedIssuer, index: number): Promise<ResolvedKey> {
  const given = KEY_SOURCES.filter((k) => (issuer as Record<string, unknown>)[k] !== undefined);
  if (given.length !== 1) {
    throw new TypeError(
      `options.issuers[${index}] must set exactly one of ${KEY_SOURCES.join(', ')} (got ${given.length === 0 ? 'none' : given.join(', ')})`,
    );
  }
  if ('jwksUrl' in issuer) {
    const url = new URL(issuer.jwksUrl);
    const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      throw new TypeError(`options.issuers[${index}].jwksUrl must be https (http is allowed on loopback only)`);
    }
    return Promise.resolve(
      createRemoteJWKSet(url, {
        cooldownDuration: (issuer.jwksCooldownSeconds ?? 30) * 1000,
        timeoutDuration: 5000,
      }),
    );
  }
  if ('jwks' in issuer) return Promise.resolve(createLocalJWKSet(issuer.jwks));
  const key = issuer.publicKey;
  if (typeof key === 'string') return importSPKI(key, issuer.algorithms?.[0] ?? 'RS256');
  if (key && typeof key === 'object' && 'kty' in key) {
    return Promise.resolve(createLocalJWKSet({ keys: [key as JWK] }));
  }
  return Promise.resolve(key as CryptoKey | KeyObject);
}

function reject(code: BrokerErrorCodeWithStatus<401>, message: string, cause?: unknown): never {
  throw new AuthenticationError(code, message, cause === undefined ? undefined : { cause });
}

// The claims jose can name in a JWTClaimValidationFailed with the options used here; `nbf` and
// `iat` are handled before this. Any other claim (a future jose check) is plain `invalid_token`,
// so only codes the protocol declares ever reach a client.
const CLAIM_CODES: Readonly<Record<string, BrokerErrorCodeWithStatus<401>>> = {
  iss: 'invalid_iss',
  aud: 'invalid_aud',
  sub: 'invalid_sub',
  exp: 'invalid_exp',
};

function mapJoseError(err: unknown): never {
  if (err instanceof KeyholeError) throw err;
  if (err instanceof joseErrors.JWTExpired) reject('token_expired', 'the token has expired', err);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') reject('token_not_yet_valid', 'the token is not valid yet (nbf)', err);
    if (err.claim === 'iat') reject('token_not_yet_valid', 'the token was issued in the future (iat)', err);
    const code = Object.hasOwn(CLAIM_CODES, err.claim) ? CLAIM_CODES[err.claim]! : 'invalid_token';
    reject(code, `the token's "${err.claim}" claim is not accepted`, err);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    reject('algorithm_not_allowed', 'the token algorithm is not allowed', err);
  if (err instanceof joseErrors.JWKSNoMatchingKey) reject('unknown_key', 'no trusted key matches the token (kid)', err);
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) reject('unknown_key', 'the token kid is ambiguous', err);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    reject('invalid_signature', 'the token signature is invalid', err);
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) {
    throw brokerError('jwks_unavailable', 'the issuer key set could not be fetched', { cause: err });
  }
  if (err instanceof joseErrors.JOSEError) reject('invalid_token', `the token is invalid: ${err.code}`, err);
  // Network failures fetching a JWKS surface as plain errors from fetch.
  throw brokerError('jwks_unavailable', 'the issuer key set could not be fetched', { cause: err });
}

type IssuerEntry = { readonly issuer: TrustedIssuer; readonly key: ReturnType<typeof keyResolver> };

// Checks each trusted issuer's entry, in order, and indexes them by their exact `iss`.
function issuerTable(issuers: readonly TrustedIssuer[]): Map<string, IssuerEntry> {
  const byIssuer = new Map<string, IssuerEntry>();
  issuers.forEach((issuer, i) => {
    if (typeof issuer?.issuer !== 'string' || issuer.issuer === '') {
      throw new TypeError(`options.issuers[${i}].issuer must be a non-empty string`);
    }
    const audiences = typeof issuer.audience === 'string' ? [issuer.audience] : issuer.audience;
    if (
      !Array.isArray(audiences) ||
      audiences.length === 0 ||
      audiences.some((a) => typeof a !== 'string' || a === '')
    ) {
      throw new TypeError(`options.issuers[${i}].audience must be a non-empty string or array of strings`);
    }
    for (const alg of issuer.algorithms ?? []) {
      if (!DEFAULT_ALGORITHMS.includes(alg)) {
        throw new TypeError(
          `options.issuers[${i}].algorithms may only contain ${DEFAULT_ALGORITHMS.join(', ')}; got "${alg}"`,
        );
      }
    }
    if (byIssuer.has(issuer.issuer))
      throw new TypeError(`options.issuers[${i}].issuer "${issuer.issuer}" is listed twice`);
    const key = keyResolver(issuer, i);
    // Surface bad static keys at startup rather than per request; the promise is reused.
    key.catch(() => undefined);
    byIssuer.set(issuer.issuer, { issuer, key });
  });
  return byIssuer;
}

/**
 * Creates a bearer-token verifier that checks signature, `iss`, `aud`, `exp`, `nbf` and `sub`.
 * Tokens are matched to a trusted issuer by their `iss` claim. Failures throw
 * AuthenticationError (401) with a stable code, or KeyholeError('jwks_unavailable', 503).
 *
 * @example
 * ```ts
 * const verify = createTokenVerifier({
 *   issuers: [{ issuer: 'https://id.example.com/', audience: 'keyhole', jwksUrl: 'https://id.example.com/.well-known/jwks.json' }],
 * })
 * const claims = await verify(token) // { sub: 'alice', ... }
 * ```
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (!options || !Array.isArray(options.issuers) || options.issuers.length === 0) {
    throw new TypeError('options.issuers must be a non-empty array');
  }
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > 300) {
    throw new RangeError('options.clockToleranceSeconds must be an integer from 0 to 300');
  }
  const maxBytes = options.maxTokenBytes ?? 8192;
  if (!Number.isInteger(maxBytes) || maxBytes < 256 || maxBytes > 65536) {
    throw new RangeError('options.maxTokenBytes must be an integer from 256 to 65536');
  }
  const maxAge = options.maxTokenAgeSeconds ?? 86400;
  if (!Number.isInteger(maxAge) || maxAge < 60 || maxAge > 31_536_000) {
    throw new RangeError('options.maxTokenAgeSeconds must be an integer from 60 to 31536000');
  }
  const cacheEntries = options.verifiedTokenCacheMaxEntries ?? 10_000;
  if (!Number.isInteger(cacheEntries) || cacheEntries < 0 || cacheEntries > 1_000_000) {
    throw new RangeError('options.verifiedTokenCacheMaxEntries must be an integer from 0 to 1000000');
  }
  const cacheSeconds = options.verifiedTokenCacheSeconds ?? 60;
  if (!Number.isInteger(cacheSeconds) || cacheSeconds < 0 || cacheSeconds > 300) {
    throw new RangeError('options.verifiedTokenCacheSeconds must be an integer from 0 to 300');
  }
  const now = options.now ?? (() => new Date());
  const byIssuer = issuerTable(options.issuers);

  const verifyUncached = async function verifyToken(token: string): Promise<VerifiedClaims> {
    if (typeof token !== 'string' || token === '') reject('missing_token', 'a bearer token is required');
    if (new TextEncoder().encode(token).length > maxBytes) {
      reject('token_too_large', `the token is larger than ${maxBytes} bytes`);
    }
    let iss: unknown;
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') {
        reject('algorithm_not_allowed', 'unsigned tokens are not accepted');
      }
      iss = decodeJwt(token).iss;
    } catch (err) {
      if (err instanceof KeyholeError) throw err;
      reject('malformed_token', 'the token is not a well-formed JWT', err);
    }
    const entry = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
    if (!entry) reject('invalid_iss', `the token's "iss" claim is not accepted`);
    let payload: JWTPayload;
    const at = now();
    try {
      const key = await entry.key;
      const verifyOptions = {
        issuer: entry.issuer.issuer,
        audience: entry.issuer.audience as string | string[],
        algorithms: [...(entry.issuer.algorithms ?? DEFAULT_ALGORITHMS)],
        clockTolerance: tolerance,
        currentDate: at,
        requiredClaims: ['exp', 'sub'],
      };
      payload = (
        typeof key === 'function'
          ? await jwtVerify(token, key, verifyOptions)
          : await jwtVerify(token, key, verifyOptions)
      ).payload;
    } catch (err) {
      mapJoseError(err);
    }
    if (typeof payload.sub !== 'string') reject('invalid_sub', 'the token has no string "sub" claim');
    // A token valid for years is a long-lived password; credentials bound to its expiry would be too.
    const nowSeconds = at.getTime() / 1000;
    if (typeof payload.exp === 'number' && payload.exp - nowSeconds > maxAge + tolerance) {
      reject(
        'token_lifetime_too_long',
        `the token expires more than ${maxAge} s from now; ask the issuer for a shorter-lived token`,
      );
    }
    if (typeof payload.iat === 'number' && nowSeconds - payload.iat > maxAge + tolerance) {
      reject('token_too_old', `the token was issued more than ${maxAge} s ago; sign in again`);
    }
    return payload as VerifiedClaims;
  };
  if (cacheEntries === 0 || cacheSeconds === 0) return verifyUncached;

  // The time checks jose and the age limits above make, at `nowMs`: a cached token is served only
  // while a fresh verification at this moment would accept it.
  const stillValid = (claims: VerifiedClaims, nowMs: number): boolean => {
    const nowSeconds = nowMs / 1000;
    const flooredNow = Math.floor(nowSeconds);
    if (typeof claims.exp === 'number' && claims.exp <= flooredNow - tolerance) return false;
    if (typeof claims.nbf === 'number' && claims.nbf > flooredNow + tolerance) return false;
    if (typeof claims.exp === 'number' && claims.exp - nowSeconds > maxAge + tolerance) return false;
    if (typeof claims.iat === 'number' && nowSeconds - claims.iat > maxAge + tolerance) return false;
    return true;
  };
  const cache = new VerifiedTokenCache<VerifiedClaims>(cacheEntries, cacheSeconds * 1000);
  return async function verifyToken(token: string): Promise<VerifiedClaims> {
    // Oversized or malformed tokens take the full path, which refuses them with their own code.
    if (typeof token !== 'string' || token === '' || token.length > maxBytes) return verifyUncached(token);
    const key = VerifiedTokenCache.keyFor(token);
    const at = now().getTime();
    const hit = cache.get(key, at, (claims) => stillValid(claims, at));
    if (hit) return hit;
    const claims = await verifyUncached(token);
    cache.set(key, claims, at);
    return claims;
  };
}
