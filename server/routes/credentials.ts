import type { Request, RequestHandler, Response } from 'express';
import type { CredentialsResponse } from '../../client/protocol/credentials.js';
import { DEV_ISSUER, DEV_NAMESPACE } from '../auth/dev-login.js';
import type { TokenVerifier } from '../auth/verify-token.js';
import { CredentialCache, type CredentialStore } from '../credential-cache.js';
import { resolveGrant, type CompiledRule } from '../grants.js';
import { bearerToken } from '../http/bearer.js';
import { toKeyholeError } from '../http/errors.js';
import { clientAddressKey, type Limiter } from '../http/rate-limit.js';
import { parseCredentialsBody, readOptionalJsonBody } from '../http/request-body.js';
import type { Logger } from '../logger.js';
import type { BrokerMetrics } from '../metrics.js';
import type { Access } from '../policy/access.js';
import { sessionNameFor } from '../policy/session-name.js';
import { buildSessionPolicy, type Scope, type SessionRestrictions } from '../policy/session-policy.js';
import { sessionRestrictions } from '../policy/session-restrictions.js';
import type { CredentialVendor, IssuedCredentials } from '../vendors/vendor.js';

/** What {@link credentialsHandler} needs, all validated beforehand (see `checkBrokerOptions`). */
export interface CredentialsRouteOptions {
  readonly verify: TokenVerifier;
  readonly rules: readonly CompiledRule[];
  readonly vendor: CredentialVendor;
  /** Region reported to clients. */
  readonly region: string;
  readonly durationSeconds: number;
  /** S3 endpoint origin reported to clients, with `forcePathStyle`, for non-AWS backends. */
  readonly s3Endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  /** JSON body parser, run only when the request has a body, and only once the caller is known. */
  readonly json: RequestHandler;
  /** In-process, or shared through Redis (KEYHOLE_REDIS_URL). */
  readonly cache: CredentialStore | undefined;
  readonly subjectLimiter: Limiter | undefined;
  readonly addressLimiter: Limiter | undefined;
  readonly metrics: BrokerMetrics;
  readonly logger: Logger;
}

/** Who is asking, once the token is verified. */
export interface Caller {
  /** The token's claims; a dev identity keeps only `iss`, `sub` and `exp`. */
  readonly claims: Readonly<Record<string, unknown>> & {
    readonly iss: string;
    readonly sub: string;
    readonly exp?: number | undefined;
  };
  readonly issuer: string;
  /** What the caller's prefixes and identity id start with: `dev-` for dev identities, else empty. */
  readonly namespace: string;
}

/** Everything that shapes one caller's credentials: the resolved grant and its session policy. */
export interface CredentialsPlan {
  readonly caller: Caller;
  readonly identityId: string;
  readonly bucket: string;
  /** The grant's prefixes, as the vendor scoped them; the first is the response's `prefix`. */
  readonly scopes: readonly Scope[];
  readonly access: readonly Access[];
  readonly restrictions: SessionRestrictions;
  readonly policy: string;
  readonly sessionName: string;
}

/** Credentials for a plan, and whether they came from the cache. */
export interface Issued {
  readonly credentials: IssuedCredentials;
  readonly cached: boolean;
}

/** Counts the request against the address limit, verifies the bearer token, and says who it is. */
export async function identifyCaller(req: Request, options: CredentialsRouteOptions): Promise<Caller> {
  await options.addressLimiter?.hit(clientAddressKey(req.ip), 'client address');
  const verified = await options.verify(bearerToken(req));
  const dev = verified.iss === DEV_ISSUER;
  // A dev identity keeps only who it is: claims it chose itself never satisfy a grant's `when`.
  const claims = dev ? { iss: DEV_ISSUER, sub: verified.sub, exp: verified.exp } : verified;
  return { claims, issuer: claims.iss, namespace: dev ? DEV_NAMESPACE : '' };
}

/**
 * Resolves the caller's grant for the requested access (all granted when omitted) and builds its
 * session policy, bound to the client's address and the token's expiry when the grant says so.
 */
export async function planCredentials(
  caller: Caller,
  access: readonly Access[] | undefined,
  clientAddress: string | undefined,
  options: Pick<CredentialsRouteOptions, 'vendor' | 'rules'>,
): Promise<CredentialsPlan> {
  const { claims, issuer, namespace } = caller;
  const vendor = options.vendor;
  const identityId = await vendor.identityIdFor(claims.sub, issuer);
  const resolved = resolveGrant(options.rules, claims, access, identityId, namespace);
  const restrictions = sessionRestrictions(resolved.session, clientAddress, claims.exp);
  const scoped = vendor.scopeGrant
    ? vendor.scopeGrant(resolved.bucket, resolved.scopes, identityId, restrictions)
    : { scopes: resolved.scopes, policy: buildSessionPolicy(resolved.bucket, resolved.scopes, restrictions) };
  return {
    caller,
    identityId,
    bucket: resolved.bucket,
    scopes: scoped.scopes,
    access: resolved.access,
    restrictions,
    policy: scoped.policy,
    sessionName: sessionNameFor(namespace + claims.sub, issuer),
  };
}

/**
 * Issues credentials for a plan, or reuses identical ones from the cache. Their `expiration` is
 * the token's expiry when the session policy stops them there first, so clients refresh in time.
 */
export async function issueCredentials(
  plan: CredentialsPlan,
  options: Pick<CredentialsRouteOptions, 'vendor' | 'durationSeconds' | 'cache'>,
): Promise<Issued> {
  const { vendor, durationSeconds, cache } = options;
  const { identityId, sessionName, policy } = plan;
  const { sub: subject } = plan.caller.claims;
  const issuer = plan.caller.issuer;
  const issue = () => vendor.issue({ subject, issuer, identityId, sessionName, policy, durationSeconds });
  // Everything that shapes the credential is in the key: two callers, or one caller asking for
  // less, never share an STS session.
  const { credentials: issued, cached } = cache
    ? await cache.get(
        CredentialCache.keyFor([vendor.kind, issuer, identityId, sessionName, policy, String(durationSeconds)]),
        durationSeconds,
        issue,
      )
    : { credentials: await issue(), cached: false };
  const notAfter = plan.restrictions.notAfter;
  const bounded = vendor.appliesSessionPolicy !== false && notAfter !== undefined;
  const expiration = bounded && notAfter < issued.expiration ? notAfter : issued.expiration;
  return { credentials: { ...issued, expiration }, cached };
}

/** The audit line of an issuance: who, what and until when, never a secret. */
export function auditIssued(req: Request, res: Response, plan: CredentialsPlan, issued: Issued, logger: Logger): void {
  const { claims } = plan.caller;
  logger.info({
    event: 'credentials.issued',
    requestId: res.locals.requestId,
    sub: claims.sub,
    iss: claims.iss,
    identityId: plan.identityId,
    sourceIp: plan.restrictions.sourceCidr,
    bucket: plan.bucket,
    prefix: plan.scopes[0]!.prefix,
    access: plan.access,
    sessionName: plan.sessionName,
    expiration: issued.credentials.expiration.toISOString(),
    cached: issued.cached,
    ip: req.ip,
  });
}

/**
 * The response body, typed by the protocol's schema: a field added there does not compile here
 * until it is set. `scopes` only for several prefixes, `endpoint` only for non-AWS backends.
 */
export function credentialsResponse(
  plan: CredentialsPlan,
  credentials: IssuedCredentials,
  options: Pick<CredentialsRouteOptions, 'region' | 's3Endpoint' | 'forcePathStyle'>,
): CredentialsResponse {
  return {
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: credentials.expiration.toISOString(),
    },
    bucket: plan.bucket,
    region: options.region,
    prefix: plan.scopes[0]!.prefix,
    identityId: plan.identityId,
    access: [...plan.access],
    ...(plan.scopes.length > 1
      ? { scopes: plan.scopes.map((s) => ({ prefix: s.prefix, access: [...s.access] })) }
      : {}),
    ...(options.s3Endpoint ? { endpoint: options.s3Endpoint, forcePathStyle: options.forcePathStyle } : {}),
  };
}

/**
 * Audits a failed request with the status and code the client will see (body-parser and
 * unexpected errors included), then rethrows it for the error handler. The token is never logged.
 */
export function auditRefusal(
  req: Request,
  res: Response,
  err: unknown,
  subject: string | undefined,
  options: Pick<CredentialsRouteOptions, 'metrics' | 'logger'>,
): never {
  const refusal = toKeyholeError(err);
  options.metrics.refused.inc({ code: refusal.code });
  options.logger.info({
    event: 'credentials.refused',
    requestId: res.locals.requestId,
    status: refusal.status,
    code: refusal.code,
    sub: subject,
    ip: req.ip,
  });
  throw err;
}

/** Most plans remembered per token (distinct requested access and client address pairs). */
const PLANS_PER_TOKEN = 8;

/**
 * Plans already made for a token the verifier remembers: its claims object is frozen and handed out
 * again for the same token (see `server/auth/verified-token-cache.ts`), so it keys a WeakMap that
 * lives no longer than that cache keeps it. A plan is a function of the claims, the requested
 * access and the client address (the rules and vendor are fixed), so those are the key; only
 * successful plans are kept, and anything else is planned afresh.
 */
class PlanMemo {
  readonly #byClaims = new WeakMap<object, Map<string, CredentialsPlan>>();

  async plan(
    caller: Caller,
    access: readonly Access[] | undefined,
    clientAddress: string | undefined,
    options: Pick<CredentialsRouteOptions, 'vendor' | 'rules'>,
  ): Promise<CredentialsPlan> {
    if (!Object.isFrozen(caller.claims)) return planCredentials(caller, access, clientAddress, options);
    const key = `${access ? access.join(',') : '*'} ${clientAddress ?? ''}`;
    let plans = this.#byClaims.get(caller.claims);
    const known = plans?.get(key);
    if (known && known.caller.namespace === caller.namespace) return known;
    const plan = await planCredentials(caller, access, clientAddress, options);
    if (!plans) this.#byClaims.set(caller.claims, (plans = new Map()));
    if (plans.size >= PLANS_PER_TOKEN) plans.clear();
    plans.set(key, plan);
    return plan;
  }
}

/** Writes a route's answer once the credentials are issued. */
export type SendCredentials = (res: Response, plan: CredentialsPlan, credentials: IssuedCredentials) => void;

/**
 * A credentials route: count and verify the caller, read the access it asks for (`readAccess`;
 * undefined is everything granted), resolve the grant, issue (or reuse) credentials, audit, count,
 * and answer with `send`. Every outcome is audited and counted, refusals included.
 */
export function credentialsRoute(
  options: CredentialsRouteOptions,
  readAccess: (req: Request, res: Response) => Promise<readonly Access[] | undefined>,
  send: SendCredentials,
): RequestHandler {
  const { metrics, logger } = options;
  const plans = new PlanMemo();
  return async (req, res) => {
    const started = performance.now();
    let subject: string | undefined;
    try {
      const caller = await identifyCaller(req, options);
      subject = caller.claims.sub;
      await options.subjectLimiter?.hit(`sub:${caller.claims.iss}:${caller.claims.sub}`, 'subject');
      const access = await readAccess(req, res);
      const plan = await plans.plan(caller, access, req.ip, options);
      const issued = await issueCredentials(plan, options);
      auditIssued(req, res, plan, issued, logger);
      metrics.issued.inc({ cached: String(issued.cached) });
      metrics.duration.observe((performance.now() - started) / 1000);
      send(res, plan, issued.credentials);
    } catch (err) {
      auditRefusal(req, res, err, subject, options);
    }
  };
}

/**
 * `POST /v1/credentials`: the optional `{ access }` body (read only once the caller is known), and
 * the protocol's credentials response.
 */
export function credentialsHandler(options: CredentialsRouteOptions): RequestHandler {
  return credentialsRoute(
    options,
    async (req, res) => {
      await readOptionalJsonBody(req, res, options.json);
      return parseCredentialsBody(req.body).access;
    },
    (res, plan, credentials) => {
      // What res.json would send (the same headers and body), without Express's content-type
      // lookups on the hot path.
      const body = JSON.stringify(credentialsResponse(plan, credentials, options));
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Pragma', 'no-cache');
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', Buffer.byteLength(body));
      res.end(body);
    },
  );
}
