// The requests the cognito vendor makes, one function each: send, map a failure to an
// UpstreamError keeping the service's own code, and check the answer before anything uses it.
import {
  DescribeIdentityPoolCommand,
  GetCredentialsForIdentityCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  type CognitoIdentityClient,
} from '@aws-sdk/client-cognito-identity';
import { AssumeRoleWithWebIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { IDENTITY_POOL_ID } from '../config/formats.js';
import { UpstreamError } from '../errors.js';
import { describeCause, rawErrorCode, unanswered } from './raw-error-code.js';
import { issuedFrom, toUpstreamError as toStsError } from './sts.js';
import type { IssuedCredentials, IssueRequest } from './vendor.js';

/**
 * Shape of a Cognito identity (and identity pool) id: `<region>:<uuid>`. Nothing else may reach a
 * policy with its ':' kept.
 */
export const COGNITO_ID = IDENTITY_POOL_ID;

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
  // With no code and no network failure the request was never answered (no credentials, a bad
  // endpoint URL...): the cause's own words say what to fix.
  const detail =
    upstreamCode ?? (networkish ? 'unreachable' : (unanswered(err) && describeCause(err)) || 'unknown error');
  return new UpstreamError(
    unavailable ? 'cognito_unavailable' : 'cognito_error',
    unavailable ? 503 : 502,
    `Cognito ${action} failed: ${detail}`,
    upstreamCode,
    { cause: err },
  );
}

/** Where the vendor's developer-authenticated identities live. */
export interface IdentityPool {
  readonly cognito: CognitoIdentityClient;
  readonly identityPoolId: string;
  readonly developerProviderName: string;
}

/**
 * GetOpenIdTokenForDeveloperIdentity for one developer user identifier: its identity id (created
 * on first use) and an OpenID token for it. An identity id of any other shape than
 * {@link COGNITO_ID} is refused, since it would reach a policy with its ':' kept.
 */
export async function getOpenIdToken(
  pool: IdentityPool,
  user: string,
  tokenDuration: number,
): Promise<{ identityId: string; token: string }> {
  let out;
  try {
    out = await pool.cognito.send(
      new GetOpenIdTokenForDeveloperIdentityCommand({
        IdentityPoolId: pool.identityPoolId,
        Logins: { [pool.developerProviderName]: user },
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
    throw new UpstreamError('cognito_error', 502, 'Cognito returned an identity id of an unexpected shape', undefined);
  }
  return { identityId: out.IdentityId, token: out.Token };
}

/** The enhanced flow: GetCredentialsForIdentity, refusing credentials for any other identity. */
export async function getCredentialsForIdentity(
  cognito: CognitoIdentityClient,
  identityId: string,
  token: string,
  roleArn: string | undefined,
): Promise<IssuedCredentials> {
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

/** The basic flow: AssumeRoleWithWebIdentity with the broker's session policy and duration. */
export async function assumeRoleWithWebIdentity(
  sts: STSClient,
  roleArn: string,
  request: IssueRequest,
  token: string,
): Promise<IssuedCredentials> {
  let out;
  try {
    out = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
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

/**
 * DescribeIdentityPool, for `/readyz`: the pool must use this developer provider, and allow the
 * basic (classic) flow when that is the mode.
 */
export async function checkIdentityPool(pool: IdentityPool, basicFlow: boolean): Promise<void> {
  let described;
  try {
    described = await pool.cognito.send(new DescribeIdentityPoolCommand({ IdentityPoolId: pool.identityPoolId }));
  } catch (err) {
    throw toCognitoError(err, 'DescribeIdentityPool');
  }
  if (described.DeveloperProviderName !== pool.developerProviderName) {
    throw new UpstreamError(
      'cognito_error',
      502,
      `identity pool's developer provider is not "${pool.developerProviderName}"`,
      undefined,
    );
  }
  if (basicFlow && described.AllowClassicFlow !== true) {
    throw new UpstreamError('cognito_error', 502, 'identity pool does not allow the basic flow', undefined);
  }
}
