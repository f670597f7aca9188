import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { STSClient } from '@aws-sdk/client-sts';
import { createHash } from 'node:crypto';
import { ACCOUNT_ROLE_ARN, REGION, ROLE_ARN_EXAMPLE } from '../config/formats.js';
import { UpstreamError } from '../errors.js';
import { buildSessionPolicy, type Scope, type SessionRestrictions } from '../policy/session-policy.js';
import { encodeSegment } from '../policy/subject.js';
import {
  assumeRoleWithWebIdentity,
  checkIdentityPool,
  COGNITO_ID,
  getCredentialsForIdentity,
  getOpenIdToken,
  type IdentityPool,
} from './cognito-calls.js';
import { unconfinedPrefix, unconfinedPrefixReason } from './cognito-grants.js';
import { CognitoIdentities } from './cognito-identities.js';
import type { CredentialVendor } from './vendor.js';

export { COGNITO_ID, toCognitoError } from './cognito-calls.js';

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
const PROVIDER = /^[\w.-]{1,100}$/;

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
  if (typeof options.region !== 'string' || !REGION.test(options.region)) {
    throw new TypeError('options.region must be a region name such as "eu-west-1"');
  }
  if (
    options.roleArn !== undefined &&
    (typeof options.roleArn !== 'string' || !ACCOUNT_ROLE_ARN.test(options.roleArn))
  ) {
    throw new TypeError(`options.roleArn must be an IAM role ARN such as "${ROLE_ARN_EXAMPLE}"`);
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
  const base = {
    region: options.region,
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: 3,
  };
  const cognito = options.cognitoClient ?? new CognitoIdentityClient(base);
  const sts = mode === 'basic' ? (options.stsClient ?? new STSClient(base)) : undefined;
  const pool: IdentityPool = { cognito, identityPoolId, developerProviderName };
  const memory = new CognitoIdentities(options.maxCachedIdentities ?? 10000, tokenDuration);
  let calls = 0;
  // Every request to Cognito or STS counts, failed ones included.
  const counted = <T>(request: () => Promise<T>): Promise<T> => {
    calls++;
    return request();
  };
  const openIdToken = async (user: string) => {
    const answer = await counted(() => getOpenIdToken(pool, user, tokenDuration));
    memory.rememberIdentity(user, answer.identityId);
    return answer;
  };

  return {
    kind: 'cognito',
    appliesSessionPolicy: mode === 'basic',
    async identityIdFor(subject, issuer) {
      const user = developerUserIdentifier(issuer, subject);
      const known = memory.identityId(user);
      if (known) return known;
      const { identityId, token } = await openIdToken(user);
      memory.keepToken(user, token);
      return identityId;
    },
    async issue(request) {
      const user = developerUserIdentifier(request.issuer, request.subject);
      const token = memory.takeToken(user) ?? (await openIdToken(user)).token;
      if (memory.identityId(user) !== request.identityId) {
        // The caller maps to another identity than the one the prefixes were rendered for:
        // refuse rather than issue credentials for one identity scoped to another's prefix.
        throw new UpstreamError('cognito_error', 502, 'Cognito identity changed while issuing credentials', undefined);
      }
      return mode === 'enhanced'
        ? counted(() => getCredentialsForIdentity(cognito, request.identityId, token, roleArn))
        : counted(() => assumeRoleWithWebIdentity(sts!, roleArn!, request, token));
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
    ping: () => counted(() => checkIdentityPool(pool, mode === 'basic')),
    upstreamCalls: () => calls,
  };
}
