// `GET /v1/credentials/aws-sdk`: the same credentials as POST /v1/credentials, in the shape the AWS
// SDKs' HTTP (container) credential provider reads, so any AWS SDK, in any language, can use
// Keyhole with no Keyhole client: point AWS_CONTAINER_CREDENTIALS_FULL_URI at this route and set
// AWS_CONTAINER_AUTHORIZATION_TOKEN to "Bearer <JWT>". Off unless the broker enables it
// (`awsSdkRoute`, KEYHOLE_SDK_CREDENTIALS_ROUTE=1). Same checks, limits, cache and audit as the JSON route.
import type { RequestHandler } from 'express';
import { parseCredentialsBody } from '../http/request-body.js';
import {
  credentialsRoute,
  credentialsService,
  type CredentialsRouteOptions,
  type CredentialsService,
} from './credentials.js';

/** The provider's format: `{ AccessKeyId, SecretAccessKey, Token, Expiration }` (RFC 3339). */
export interface AwsSdkCredentials {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
  readonly Token: string;
  readonly Expiration: string;
}

/**
 * The access asked for in `?access=read,list` (all granted when absent), checked by the same schema
 * as the JSON body's `access`, so an unknown kind is 400 `invalid_body` naming it.
 */
function accessQuery(value: unknown): ReturnType<typeof parseCredentialsBody> {
  if (value === undefined) return {};
  const list = typeof value === 'string' ? value.split(',').map((a) => a.trim()) : value;
  return parseCredentialsBody({ access: list });
}

/** Answers the AWS SDKs' HTTP credential provider; errors also carry its top-level `Code` and `Message`. */
export function awsSdkCredentialsHandler(
  options: CredentialsRouteOptions,
  service: CredentialsService = credentialsService(options),
): RequestHandler {
  const route = credentialsRoute(
    service,
    async (req) => accessQuery(req.query.access).access,
    (res, _plan, credentials) => {
      const body: AwsSdkCredentials = {
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        Token: credentials.sessionToken,
        Expiration: credentials.expiration.toISOString(),
      };
      res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache').json(body);
    },
  );
  return (req, res, next) => {
    // The SDK reads a 4xx body's top-level Code and Message; the error handler adds them.
    res.locals.awsSdkErrorFields = true;
    return route(req, res, next);
  };
}
