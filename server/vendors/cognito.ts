import {
  CognitoIdentityClient,
  DescribeIdentityPoolCommand,
  GetCredentialsForIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
} from '@aws-sdk/client-cognito-identity';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createHash } from 'node:crypto';
import { UpstreamError } from '../errors.js';
import { buildSessionPolicy, type Scope, type SessionRestrictions } from '../policy/session-policy.js';
import { encodeSegment } from '../policy/subject.js';
import { unconfinedPrefix, unconfinedPrefixReason } from './cognito-grants.js';
import { rawErrorCode } from './raw-error-code.js';
import { issuedFrom, toUpstreamError as toStsError } from './sts.js';
import type { CredentialVendor, IssuedCredentials, IssueRequest } from './vendor.js';

/** How credentials are obtained after GetOpenIdTokenForDeveloperIdentity. */
export type CognitoMode = 'enhanced' | 'basic';

/** Options for {@link createCognitoVendor}. */
export interface CognitoVendorOptions {
  /** Identity pool id, `REGION:UUID`, e.g. `eu-west-1:0f8c6a52-5b7e-4d2a-9a77-2f0f4f6f7c11`. */
  readonly identityPoolId: string;
  /** The pool's developer provider name (`DeveloperProviderName`), e.g. `login.example.app`. */
  readonly developerProviderName: string;
  /**
   * `'enhanced'`: GetCredentialsForIdentity; the identity pool's authenticated role is the grant (1 h, fixed).
   * `'basic'`: AssumeRoleWithWebIdentity with the broker's session policy and duration (the pool
   * must allow the basic flow, `AllowClassicFlow`).
   */
  readonly mode: CognitoMode;
  /** AWS region of the identity pool (and of STS for the basic flow). */
  readonly region: string;
  /** Basic flow: the role to assume (required). Enhanced flow: optional `CustomRoleArn`. */
  readonly roleArn?: string;
  /** Lifetime of the OpenID token, 1 to 86400 s. It is used at once, so the default is short: 60. */
  readonly tokenDurationSeconds?: number;
  /** The broker's own credentials (needs `cognito-identity:GetOpenIdTokenForDeveloperIdentity`). Default: SDK chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Identity ids remembered per (issuer, subject) (they never change for one). Default 10000. */
  readonly maxCachedIdentities?: number;
  /** Pre-built clients, for tests. */
  readonly cognitoClient?: CognitoIdentityClient;
  readonly stsClient?: STSClient;
}

const MODES: readonly CognitoMode[] = ['enhanced', 'basic'];
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** Shape of a Cognito identity (and identity pool) id. Nothing else may reach a policy with its ':' kept. */
export const COGNITO_ID = new RegExp(`^${REGION}:${UUID}$`);
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const PROVIDER = /^[\w.-]{1,100}$/;

// Documented Cognito errors that mean "try again later"; everything else is a 502 (misconfiguration).
const COGNITO_RETRYABLE = new Set([
  'TooManyRequestsException',
  'InternalErrorException',
  'ExternalServiceException',
  'LimitExceededException',
  'ServiceUnavailable',
  'ThrottlingException',
  'TimeoutError',
]);

/** Maps a Cognito failure to UpstreamError `cognito_unavailable` (503) or `cognito_error` (502), keeping Cognito's code. */
export function toCognitoError(err: unknown, action: string): UpstreamError {
  const upstreamCode = rawErrorCode(err);
  // Only without a service code: "ENOTFOUND" must not match "ResourceNotFoundException".
  const networkish =
    upstreamCode === undefined &&
    err instanceof Error &&
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket hang up|TimeoutError/.test(
      `${err.name} ${err.message} ${String((err as { code?: unknown }).code ?? '')}`,
    );
  const unavailable = networkish || (upstreamCode !== undefined && COGNITO_RETRYABLE.has(upstreamCode));
  const detail = upstreamCode ?? (networkish ? 'unreachable' : 'unknown error');
  return new UpstreamError(
    unavailable ? 'cognito_unavailable' : 'cognito_error',
    unavailable ? 503 : 502,
    `Cognito ${action} failed: ${detail}`,
    upstreamCode,
    { cause: err },
  );
}

/**
 * Scopes with the identity id's segment kept literal (`private/us-east-1:uuid/`), and their session
 * policy. The generic renderer percent-encodes ':' (RGW rejects it in a Resource ARN), but on AWS a
 * ':' in the key part of an S3 ARN is an ordinary character, and Amplify and Cognito's
 * `${cognito-identity.amazonaws.com:sub}` both use the literal id. Only an id matching
 * {@link COGNITO_ID} gets here, so no wildcard or policy variable can enter the policy.
 */
export function cognitoScopes(
  bucket: string,
  scopes: readonly Scope[],
  identityId: string,
  restrictions: SessionRestrictions = {},
): { scopes: readonly Scope[]; policy: string } {
  if (!COGNITO_ID.test(identityId)) throw new Error(`not a Cognito identity id: ${JSON.stringify(identityId)}`);
  const encoded = encodeSegment(identityId, 'identityId');
  // The policy is built (and checked) from the encoded form, which has no ':'; then each occurrence
  // of that exact segment becomes the literal id. Literal template segments cannot contain '%', so
  // the encoded id cannot occur anywhere else. The result only gets shorter, so the size check holds.
  const policy = buildSessionPolicy(bucket, scopes, restrictions).replaceAll(encoded, identityId);
  const literal = scopes.map((s) => ({
    prefix: s.prefix
      .split('/')
      .map((segment) => (segment === encoded ? identityId : segment))
      .join('/'),
    access: s.access,
  }));
  return { scopes: literal, policy };
}

/** Longest developer user identifier Keyhole sends; longer (issuer, subject) pairs are hashed. */
export const MAX_DEVELOPER_USER_IDENTIFIER = 128;
const READABLE = /^[\x21-\x7e]+$/;

/**
 * The developer user identifier Keyhole sends to Cognito for a verified (issuer, subject): Cognito
 * keys its identities by it, so it must differ whenever the issuer or the subject differs ("alice"
 * at one identity provider is not "alice" at another).
 *
 * - Readable form, `<length of iss>:<iss>:<sub>`, e.g. `21:urn:keyhole:dev-login:alice`, when that
 *   is at most {@link MAX_DEVELOPER_USER_IDENTIFIER} characters of printable ASCII. The decimal
 *   length (no leading zeros) says exactly where the issuer ends, so no (iss, sub) pair can be
 *   mistaken for another even though both may contain ':'. Operators can read it in the Cognito
 *   console and LookupDeveloperIdentity, and write it by hand to find a user's identity.
 * - Otherwise, `sha256:` + base64url SHA-256 of `JSON.stringify([iss, sub])` (50 characters): JSON
 *   of two strings is an unambiguous encoding, including lone surrogates. Long, non-ASCII or
 *   whitespace-bearing values are hashed so that nothing Cognito might trim, normalise or
 *   truncate can make two callers one.
 *
 * The readable form starts with a digit and the hashed one with "s", so the two never meet. Always
 * the same for the same (iss, sub). The broker's log has `iss`, `sub` and `identityId` side by side
 * for hashed users.
 */
export function developerUserIdentifier(issuer: string, subject: string): string {
  if (typeof issuer !== 'string' || issuer === '') throw new TypeError('issuer must be a non-empty string');
  if (typeof subject !== 'string' || subject === '') throw new TypeError('subject must be a non-empty string');
  const readable = `${issuer.length}:${issuer}:${subject}`;
  if (readable.length <= MAX_DEVELOPER_USER_IDENTIFIER && READABLE.test(readable)) return readable;
  const digest = createHash('sha256')
    .update(JSON.stringify([issuer, subject]), 'utf8')
    .digest('base64url');
  return `sha256:${digest}`;
}

function checkOptions(options: CognitoVendorOptions): void {
  if (!options || typeof options !== 'object') throw new TypeError('options must be an object');
  if (typeof options.identityPoolId !== 'string' || !COGNITO_ID.test(options.identityPoolId)) {
    throw new TypeError('options.identityPoolId must be an identity pool id such as "eu-west-1:<uuid>"');
  }
  if (typeof options.developerProviderName !== 'string' || !PROVIDER.test(options.developerProviderName)) {
    throw new TypeError('options.developerProviderName must be 1-100 letters, digits, "_", "." or "-"');
  }
  if (!MODES.includes(options.mode)) {
    throw new TypeError(`options.mode must be one of ${MODES.map((m) => `"${m}"`).join(', ')}`);
  }
  if (typeof options.region !== 'string' || !/^[a-z0-9-]{2,32}$/.test(options.region)) {
    throw new TypeError('options.region must be a region name such as "eu-west-1"');
  }
  if (options.roleArn !== undefined && (typeof options.roleArn !== 'string' || !ROLE_ARN.test(options.roleArn))) {
    throw new TypeError('options.roleArn must be an IAM role ARN such as "arn:aws:iam::123456789012:role/NAME"');
  }
  if (options.mode === 'basic' && options.roleArn === undefined) {
    throw new TypeError('options.roleArn is required when options.mode is "basic"');
  }
  const t = options.tokenDurationSeconds;
  if (t !== undefined && (!Number.isInteger(t) || t < 1 || t > 86400)) {
    throw new RangeError('options.tokenDurationSeconds must be an integer from 1 to 86400');
  }
  const m = options.maxCachedIdentities;
  if (m !== undefined && (!Number.isInteger(m) || m < 1)) {
    throw new RangeError('options.maxCachedIdentities must be a positive integer');
  }
}

/**
 * A credential vendor backed by a Cognito identity pool with developer-authenticated identities.
 * The developer user identifier is derived from the verified token's issuer and subject
 * ({@link developerUserIdentifier}), so each (iss, sub) has its own Cognito identity; the
 * response's `identityId` is that identity id, so Amplify's `private/{identityId}/` keys match.
 * In the enhanced flow `createBroker` refuses per-caller prefixes without `{identityId}`
 * (the pool's role cannot confine them). AWS only (no Cognito on RGW).
 *
 * @example
 * ```ts
 * const vendor = createCognitoVendor({
 *   identityPoolId: 'eu-west-1:0f8c6a52-5b7e-4d2a-9a77-2f0f4f6f7c11',
 *   developerProviderName: 'login.example.app',
 *   mode: 'basic',
 *   roleArn: 'arn:aws:iam::123456789012:role/keyhole-cognito-uploader',
 *   region: 'eu-west-1',
 * })
 * ```
 */
export function createCognitoVendor(options: CognitoVendorOptions): CredentialVendor {
  checkOptions(options);
  const { identityPoolId, developerProviderName, mode, roleArn } = options;
  const tokenDuration = options.tokenDurationSeconds ?? 60;
  const maxIdentities = options.maxCachedIdentities ?? 10000;
  const base = {
    region: options.region,
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: 3,
  };
  const cognito = options.cognitoClient ?? new CognitoIdentityClient(base);
  const sts = mode === 'basic' ? (options.stsClient ?? new STSClient(base)) : undefined;
  // Both maps are keyed by the developer user identifier, i.e. by (issuer, subject), exactly as
  // Cognito keys its identities: a subject alone would let "alice" at issuer B be answered with
  // the identity (and in the enhanced flow, the credentials) of "alice" at issuer A.
  // developer user identifier -> identity id (stable for it), in LRU order.
  const identities = new Map<string, string>();
  // developer user identifier -> an OpenID token just obtained by identityIdFor, so issue() need not ask again.
  const fresh = new Map<string, { token: string; at: number }>();
  let calls = 0;

  async function openIdToken(user: string): Promise<{ identityId: string; token: string }> {
    calls++;
    let out;
    try {
      out = await cognito.send(
        new GetOpenIdTokenForDeveloperIdentityCommand({
          IdentityPoolId: identityPoolId,
          Logins: { [developerProviderName]: user },
          TokenDuration: tokenDuration,
        }),
      );
    } catch (err) {
      throw toCognitoError(err, 'GetOpenIdTokenForDeveloperIdentity');
    }
    if (!out.IdentityId || !out.Token) {
      throw new UpstreamError(
        'cognito_error',
        502,
        'Cognito GetOpenIdTokenForDeveloperIdentity returned no identity or token',
        undefined,
      );
    }
    if (!COGNITO_ID.test(out.IdentityId)) {
      throw new UpstreamError(
        'cognito_error',
        502,
        'Cognito returned an identity id of an unexpected shape',
        undefined,
      );
    }
    identities.delete(user);
    identities.set(user, out.IdentityId);
    while (identities.size > maxIdentities) identities.delete(identities.keys().next().value as string);
    return { identityId: out.IdentityId, token: out.Token };
  }

  async function tokenFor(user: string): Promise<string> {
    const kept = fresh.get(user);
    fresh.delete(user);
    // Used once, and only while well inside its lifetime.
    if (kept && Date.now() - kept.at < Math.min(tokenDuration, 30) * 500) return kept.token;
    return (await openIdToken(user)).token;
  }

  async function enhanced(identityId: string, token: string): Promise<IssuedCredentials> {
    calls++;
    let out;
    try {
      out = await cognito.send(
        new GetCredentialsForIdentityCommand({
          IdentityId: identityId,
          Logins: { 'cognito-identity.amazonaws.com': token },
          ...(roleArn ? { CustomRoleArn: roleArn } : {}),
        }),
      );
    } catch (err) {
      throw toCognitoError(err, 'GetCredentialsForIdentity');
    }
    if (out.IdentityId !== undefined && out.IdentityId !== identityId) {
      throw new UpstreamError('cognito_error', 502, 'Cognito returned credentials for another identity', undefined);
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretKey || !c.SessionToken || !c.Expiration) {
      throw new UpstreamError(
        'cognito_error',
        502,
        'Cognito GetCredentialsForIdentity returned no credentials',
        undefined,
      );
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  }

  async function basic(request: IssueRequest, token: string): Promise<IssuedCredentials> {
    calls++;
    let out;
    try {
      out = await sts!.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn!,
          RoleSessionName: request.sessionName,
          WebIdentityToken: token,
          Policy: request.policy,
          DurationSeconds: request.durationSeconds,
        }),
      );
    } catch (err) {
      throw toStsError(err, 'AssumeRoleWithWebIdentity');
    }
    return issuedFrom(out.Credentials, 'AssumeRoleWithWebIdentity');
  }

  return {
    kind: 'cognito',
    appliesSessionPolicy: mode === 'basic',
    async identityIdFor(subject, issuer) {
      const user = developerUserIdentifier(issuer, subject);
      const known = identities.get(user);
      if (known) return known;
      const { identityId, token } = await openIdToken(user);
      fresh.set(user, { token, at: Date.now() });
      while (fresh.size > 1000) fresh.delete(fresh.keys().next().value as string);
      return identityId;
    },
    async issue(request) {
      const user = developerUserIdentifier(request.issuer, request.subject);
      const token = await tokenFor(user);
      const identityId = identities.get(user);
      if (identityId !== request.identityId) {
        // The caller maps to another identity than the one the prefixes were rendered for:
        // refuse rather than issue credentials for one identity scoped to another's prefix.
        throw new UpstreamError('cognito_error', 502, 'Cognito identity changed while issuing credentials', undefined);
      }
      return mode === 'enhanced' ? enhanced(request.identityId, token) : basic(request, token);
    },
    scopeGrant: cognitoScopes,
    checkGrants(grants) {
      if (mode !== 'enhanced') return;
      const unconfined = unconfinedPrefix(grants);
      if (unconfined) {
        throw new TypeError(
          `options.grants[${unconfined.rule}].scopes[${unconfined.scope}].prefix "${unconfined.prefix}" ` +
            unconfinedPrefixReason('mode "basic" in createCognitoVendor'),
        );
      }
    },
    async ping() {
      calls++;
      let pool;
      try {
        pool = await cognito.send(new DescribeIdentityPoolCommand({ IdentityPoolId: identityPoolId }));
      } catch (err) {
        throw toCognitoError(err, 'DescribeIdentityPool');
      }
      if (pool.DeveloperProviderName !== developerProviderName) {
        throw new UpstreamError(
          'cognito_error',
          502,
          `identity pool's developer provider is not "${developerProviderName}"`,
          undefined,
        );
      }
      if (mode === 'basic' && pool.AllowClassicFlow !== true) {
        throw new UpstreamError('cognito_error', 502, 'identity pool does not allow the basic flow', undefined);
      }
    },
    upstreamCalls: () => calls,
  };
}
