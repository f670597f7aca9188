// `POST /v1/uploads/complete`: the caller says an upload finished; the broker checks the key is in
// the caller's grant, HEADs the object, runs the scope's upload rules and answers the verdict.
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { UploadVerdict } from '../../client/protocol/uploads.js';
import { DEV_ISSUER, DEV_NAMESPACE } from '../auth/dev-login.js';
import type { TokenVerifier } from '../auth/verify-token.js';
import { BadRequestError, brokerError, ForbiddenError, isBrokerError } from '../errors.js';
import { resolveGrant, type CompiledRule, type ResolvedScope } from '../grants.js';
import { bearerToken } from '../http/bearer.js';
import { clientAddressKey, type Limiter } from '../http/rate-limit.js';
import { readOptionalJsonBody } from '../http/request-body.js';
import type { Logger } from '../logger.js';
import type { UploadCompleter } from '../uploads/complete.js';
import type { CredentialVendor } from '../vendors/vendor.js';

/** What {@link uploadsCompleteHandler} needs, all validated beforehand. */
export interface UploadsCompleteRouteOptions {
  readonly verify: TokenVerifier;
  readonly rules: readonly CompiledRule[];
  readonly vendor: CredentialVendor;
  readonly json: RequestHandler;
  readonly completer: UploadCompleter;
  readonly subjectLimiter: Limiter | undefined;
  readonly addressLimiter: Limiter | undefined;
  readonly logger: Logger;
}

const body = z.strictObject({ key: z.string(), prefix: z.string().optional() });

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const MAX_KEY_BYTES = 1024;

/**
 * The full key for `key` under `prefix`, by the client's own key rules (client/keys.ts): 400
 * `invalid_key` for an empty, absolute, too long or control-character key; 403 `key_not_granted`
 * for `.` or `..` segments, which a URL parser collapses into a key outside the prefix.
 */
export function grantedKey(prefix: string, key: string): string {
  if (key === '' || key.endsWith('/'))
    throw new BadRequestError('invalid_key', 'key must name an object: non-empty, not ending in "/"');
  if (key.startsWith('/'))
    throw new BadRequestError('invalid_key', 'key must be relative to your prefix: remove the leading "/"');
  if (CONTROL.test(key)) throw new BadRequestError('invalid_key', 'key must not contain control characters');
  const segments = key.split('/');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new ForbiddenError(
      'key_not_granted',
      'key must not contain "." or ".." segments: it would leave your prefix',
    );
  }
  if (segments.some((s) => s === ''))
    throw new BadRequestError('invalid_key', 'key must not contain empty segments ("//")');
  const full = prefix + key;
  if (Buffer.byteLength(full) > MAX_KEY_BYTES) {
    throw new BadRequestError(
      'invalid_key',
      `key is too long: S3 keys are at most ${MAX_KEY_BYTES} bytes including the prefix`,
    );
  }
  return full;
}

/** The caller's scope that `prefix` names (default: the first), if it may write there. */
function writableScope(scopes: readonly ResolvedScope[], prefix: string | undefined): ResolvedScope {
  const scope = prefix === undefined ? scopes[0] : scopes.find((s) => s.prefix === prefix);
  if (!scope || !scope.access.includes('write')) {
    throw new ForbiddenError(
      'key_not_granted',
      prefix === undefined
        ? 'your grant does not let you write under your prefix'
        : `your grant does not let you write under "${prefix}"`,
    );
  }
  return scope;
}

function parseBody(value: unknown): z.infer<typeof body> {
  const parsed = body.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new BadRequestError(
    'invalid_body',
    value === undefined ? 'body: expected { "key": "<key relative to your prefix>" }' : `${where}: ${issue.message}`,
  );
}

async function verdictFor(req: Request, options: UploadsCompleteRouteOptions): Promise<UploadVerdict> {
  await options.addressLimiter?.hit(clientAddressKey(req.ip), 'client address');
  const verified = await options.verify(bearerToken(req));
  const dev = verified.iss === DEV_ISSUER;
  const claims = dev ? { iss: DEV_ISSUER, sub: verified.sub } : verified;
  await options.subjectLimiter?.hit(`sub:${claims.iss}:${claims.sub}`, 'subject');
  await readOptionalJsonBody(req, req.res!, options.json);
  const { key, prefix } = parseBody(req.body);
  const identityId = await options.vendor.identityIdFor(claims.sub, claims.iss);
  const grant = resolveGrant(options.rules, claims, undefined, identityId, dev ? DEV_NAMESPACE : '');
  const scope = writableScope(grant.scopes, prefix);
  const fullKey = grantedKey(scope.prefix, key);
  let verdict: UploadVerdict | undefined;
  try {
    verdict = await options.completer.complete({
      bucket: grant.bucket,
      key: fullKey,
      relativeKey: key,
      scopePrefix: scope.prefix,
      rules: scope.uploads,
      subject: claims.sub,
    });
  } catch (err) {
    if (isBrokerError(err)) throw err;
    const name = (err as { name?: string })?.name ?? 'Error';
    throw brokerError('storage_error', `the broker could not check the object: ${name}`, { cause: err });
  }
  if (!verdict) throw brokerError('object_not_found', `no object "${key}" under your prefix: upload it first`);
  return verdict;
}

/** `POST /v1/uploads/complete`. Every outcome, refusals included, is logged. */
export function uploadsCompleteHandler(options: UploadsCompleteRouteOptions): RequestHandler {
  return async (req, res) => {
    try {
      const verdict = await verdictFor(req, options);
      res.set('Cache-Control', 'no-store').json(verdict);
    } catch (err) {
      const code = isBrokerError(err) ? err.code : 'internal_error';
      options.logger.info({ event: 'uploads.refused', requestId: res.locals.requestId, code, ip: req.ip });
      throw err;
    }
  };
}
