import { AssumeRoleCommand, STSClient, type Credentials } from '@aws-sdk/client-sts';
import { UpstreamError } from '../errors.js';
import { DEV_ISSUER, DEV_NAMESPACE } from '../auth/dev-login.js';
import { ROLE_ARN, ROLE_ARN_EXAMPLE } from '../config/formats.js';
import { encodeSegment } from '../policy/subject.js';
import { describeCause, keepRawErrorBody, rawErrorCode, unanswered } from './raw-error-code.js';
import type { CredentialVendor, IssuedCredentials, IssueRequest } from './vendor.js';

/** Options for {@link createStsVendor}. */
export interface StsVendorOptions {
  /** ARN of the role to assume, e.g. `arn:aws:iam::123456789012:role/keyhole-uploader`. */
  readonly roleArn: string;
  /** AWS region of the STS endpoint. */
  readonly region: string;
  /** STS endpoint URL for non-AWS backends such as Ceph RGW. Default: the AWS regional endpoint. */
  readonly endpoint?: string;
  /** The broker's own long-term credentials. Default: the SDK's default provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Set SourceIdentity on sessions (sticky across role chaining, visible in CloudTrail). Default true. */
  readonly sourceIdentity?: boolean;
  /** Pre-built client, for tests. Takes precedence over region/endpoint/credentials. */
  readonly client?: STSClient;
}

const DENY_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
});

// Codes that mean "try again later" (503); any other STS failure is a 502 (misconfiguration).
const THROTTLE_OR_DOWN = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
  'TimeoutError',
  'RegionDisabledException',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

// Only a failure with no HTTP answer counts as "unreachable": matching on message text would
// turn an answered error such as ResourceNotFound into a retryable 503.
function isNetworkError(err: unknown): boolean {
  const e = err as {
    code?: unknown;
    name?: unknown;
    errors?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number };
  } | null;
  if (!e || typeof e !== 'object' || e.$metadata?.httpStatusCode !== undefined || typeof e.$fault === 'string') {
    return false;
  }
  if (NETWORK_CODES.has(String(e.code)) || e.name === 'TimeoutError') return true;
  return (
    Array.isArray(e.errors) && e.errors.some((inner) => NETWORK_CODES.has(String((inner as { code?: unknown }).code)))
  );
}

/**
 * The trust-policy actions an AssumeRole request needs from the role: `sts:AssumeRole`, plus
 * `sts:SetSourceIdentity` when it sends SourceIdentity and `sts:TagSession` when it sends tags.
 * Infrastructure code and tests derive the role's trust policy from the vendor's real request.
 */
export function requiredTrustActions(input: { SourceIdentity?: string; Tags?: readonly unknown[] }): string[] {
  return [
    'sts:AssumeRole',
    ...(input.SourceIdentity !== undefined ? ['sts:SetSourceIdentity'] : []),
    ...(input.Tags !== undefined && input.Tags.length > 0 ? ['sts:TagSession'] : []),
  ];
}

/** Maps any STS failure to an UpstreamError that keeps STS's own code. */
export function toUpstreamError(err: unknown, action: string): UpstreamError {
  const upstreamCode = rawErrorCode(err);
  const networkish = isNetworkError(err);
  const status = networkish || (upstreamCode && THROTTLE_OR_DOWN.has(upstreamCode)) ? 503 : 502;
  const code = status === 503 ? 'sts_unavailable' : 'sts_error';
  // With no code and no network failure the request was never answered (no credentials, a bad
  // endpoint URL...): the cause's own words say what to fix.
  const detail =
    upstreamCode ?? (networkish ? 'unreachable' : (unanswered(err) && describeCause(err)) || 'unknown error');
  return new UpstreamError(code, status, `STS ${action} failed: ${detail}`, upstreamCode, {
    cause: err,
  });
}

/** Checks an STS `Credentials` answer (AssumeRole, AssumeRoleWithWebIdentity) and maps it; 502 if incomplete. */
export function issuedFrom(c: Credentials | undefined, action: string): IssuedCredentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw new UpstreamError('sts_error', 502, `STS ${action} returned no credentials`, undefined);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

/**
 * A credential vendor that calls STS AssumeRole with an inline session policy.
 *
 * @example
 * ```ts
 * const vendor = createStsVendor({ roleArn: 'arn:aws:iam::123456789012:role/uploader', region: 'eu-west-1' })
 * ```
 */
export function createStsVendor(options: StsVendorOptions): CredentialVendor {
  if (typeof options?.roleArn !== 'string' || !ROLE_ARN.test(options.roleArn)) {
    throw new TypeError(`options.roleArn must be an IAM role ARN such as "${ROLE_ARN_EXAMPLE}"`);
  }
  if (typeof options.region !== 'string' || options.region === '') {
    throw new TypeError('options.region must be a non-empty string');
  }
  const client =
    options.client ??
    new STSClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
      maxAttempts: 3,
    });
  client.middlewareStack.use(keepRawErrorBody);
  const roleArn = options.roleArn;
  const withSourceIdentity = options.sourceIdentity ?? true;
  let calls = 0;
  // One builder for serving and for the readiness probe, so /readyz exercises exactly what serving needs.
  const assumeRoleInput = (request: Pick<IssueRequest, 'sessionName' | 'policy' | 'durationSeconds'>) => ({
    RoleArn: roleArn,
    RoleSessionName: request.sessionName,
    ...(withSourceIdentity ? { SourceIdentity: request.sessionName } : {}),
    Policy: request.policy,
    DurationSeconds: request.durationSeconds,
  });

  return {
    kind: 'sts',
    // The issuer is not part of the id: with several issuers the broker requires {iss} in every
    // per-caller prefix (checkIssuerSeparation), and the session policy carries that prefix. Dev
    // identities get their own namespace, so a dev "alice" is never the real "alice".
    identityIdFor: (subject, issuer) =>
      Promise.resolve((issuer === DEV_ISSUER ? DEV_NAMESPACE : '') + encodeSegment(subject, 'sub')),
    async issue(request: IssueRequest): Promise<IssuedCredentials> {
      calls++;
      let out;
      try {
        out = await client.send(new AssumeRoleCommand(assumeRoleInput(request)));
      } catch (err) {
        throw toUpstreamError(err, 'AssumeRole');
      }
      return issuedFrom(out.Credentials, 'AssumeRole');
    },
    async ping(durationSeconds = 900) {
      // GetCallerIdentity is not implemented by RGW, and neither it nor GetSessionToken proves the
      // role trusts us. The very request serving makes (SourceIdentity, duration), with a session
      // policy that denies everything, proves it all; its credentials can do nothing and are dropped.
      calls++;
      try {
        const probe = { sessionName: 'kh-readiness-probe', policy: DENY_ALL, durationSeconds };
        await client.send(new AssumeRoleCommand(assumeRoleInput(probe)));
      } catch (err) {
        throw toUpstreamError(err, 'AssumeRole');
      }
    },
    upstreamCalls: () => calls,
  };
}
