import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
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

/**
 * One request to a credentials route, as the route uses it: built from an Express request, or by the
 * fast path from Node's own (server/routes/credentials-fast-path.ts).
 */
export interface CredentialsCall {
  /** The id in the response's `X-Request-Id` and in every log line of the request. */
  readonly requestId: string;
  /** The client address as Express's `req.ip` gives it (the `trust proxy` setting applied). */
  readonly ip: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** The {@link CredentialsCall} of an Express request (after the request-id middleware). */
export function callOf(req: Request, res: Response): CredentialsCall {
  return { requestId: res.locals.requestId as string, ip: req.ip, headers: req.headers };
}

/** Counts the request against the address limit, verifies the bearer token, and says who it is. */
export async function identifyCaller(call: CredentialsCall, options: CredentialsRouteOptions): Promise<Caller> {
  await options.addressLimiter?.hit(clientAddressKey(call.ip), 'client address');
  const verified = await options.verify(bearerToken(call));
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

// A plan's cache key, kept with the plan (plans are remembered per token, see PlanMemo): hashing
// the policy again for every request of the same token is wasted work.
const cacheKeys = new WeakMap<
  CredentialsPlan,
  { readonly kind: string; readonly seconds: number; readonly key: string }
>();

function cacheKeyOf(plan: CredentialsPlan, kind: string, durationSeconds: number): string {
  const known = cacheKeys.get(plan);
  if (known && known.kind === kind && known.seconds === durationSeconds) return known.key;
  const { identityId, sessionName, policy } = plan;
  const key = CredentialCache.keyFor([
    kind,
    plan.caller.issuer,
    identityId,
    sessionName,
    policy,
    String(durationSeconds),
  ]);
  cacheKeys.set(plan, { kind, seconds: durationSeconds, key });
  return key;
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
    ? await cache.get(cacheKeyOf(plan, vendor.kind, durationSeconds), durationSeconds, issue)
    : { credentials: await issue(), cached: false };
  const notAfter = plan.restrictions.notAfter;
  const bounded = vendor.appliesSessionPolicy !== false && notAfter !== undefined;
  const expiration = bounded && notAfter < issued.expiration ? notAfter : issued.expiration;
  return { credentials: { ...issued, expiration }, cached };
}

// A plan's audit fields, bound once in a child logger kept with the plan: pino serializes a child's
// bindings when it is made, so each issuance writes only what changes per request.
const auditLoggers = new WeakMap<CredentialsPlan, { readonly parent: Logger; readonly child: Logger }>();

function auditLoggerOf(plan: CredentialsPlan, logger: Logger): Logger {
  const known = auditLoggers.get(plan);
  if (known && known.parent === logger) return known.child;
  const child = logger.child({
    event: 'credentials.issued',
    sub: plan.caller.claims.sub,
    iss: plan.caller.claims.iss,
    identityId: plan.identityId,
    sourceIp: plan.restrictions.sourceCidr,
    bucket: plan.bucket,
    prefix: plan.scopes[0]!.prefix,
    access: plan.access,
    sessionName: plan.sessionName,
  });
  auditLoggers.set(plan, { parent: logger, child });
  return child;
}

/** The audit line of an issuance: who, what and until when, never a secret. */
export function auditIssued(call: CredentialsCall, plan: CredentialsPlan, issued: Issued, logger: Logger): void {
  if (!logger.isLevelEnabled('info')) return;
  auditLoggerOf(plan, logger).info({
    requestId: call.requestId,
    expiration: issued.credentials.expiration.toISOString(),
    cached: issued.cached,
    ip: call.ip,
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
  call: CredentialsCall,
  err: unknown,
  subject: string | undefined,
  options: Pick<CredentialsRouteOptions, 'metrics' | 'logger'>,
): never {
  const refusal = toKeyholeError(err);
  options.metrics.refused.inc({ code: refusal.code });
  options.logger.info({
    event: 'credentials.refused',
    requestId: call.requestId,
    status: refusal.status,
    code: refusal.code,
    sub: subject,
    ip: call.ip,
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

/** Credentials issued for a call, with the plan that shaped them. */
export interface Served {
  readonly plan: CredentialsPlan;
  readonly credentials: IssuedCredentials;
}

/**
 * Serves one credentials call: count and verify the caller, read the access it asks for
 * (`readAccess`, run only once the caller is known; undefined is everything granted), resolve the
 * grant, issue (or reuse) credentials, audit and count. A refusal is audited and counted, then
 * thrown for the caller's error answer.
 */
export type CredentialsService = (
  call: CredentialsCall,
  readAccess: () => Promise<readonly Access[] | undefined>,
) => Promise<Served>;

/** The {@link CredentialsService} of a broker: one per broker, shared by its credentials routes. */
export function credentialsService(options: CredentialsRouteOptions): CredentialsService {
  const { metrics, logger } = options;
  const plans = new PlanMemo();
  return async (call, readAccess) => {
    const started = performance.now();
    let subject: string | undefined;
    try {
      const caller = await identifyCaller(call, options);
      subject = caller.claims.sub;
      await options.subjectLimiter?.hit(`sub:${caller.claims.iss}:${caller.claims.sub}`, 'subject');
      const access = await readAccess();
      const plan = await plans.plan(caller, access, call.ip, options);
      const issued = await issueCredentials(plan, options);
      auditIssued(call, plan, issued, logger);
      metrics.issued.inc({ cached: String(issued.cached) });
      metrics.duration.observe((performance.now() - started) / 1000);
      return { plan, credentials: issued.credentials };
    } catch (err) {
      auditRefusal(call, err, subject, options);
    }
  };
}

/** Writes a route's answer once the credentials are issued. */
export type SendCredentials = (res: Response, plan: CredentialsPlan, credentials: IssuedCredentials) => void;

/**
 * A credentials route on Express: `service` with the access `readAccess` reads from the request,
 * answered by `send`. Refusals go to the error handler.
 */
export function credentialsRoute(
  service: CredentialsService,
  readAccess: (req: Request, res: Response) => Promise<readonly Access[] | undefined>,
  send: SendCredentials,
): RequestHandler {
  return async (req, res) => {
    const { plan, credentials } = await service(callOf(req, res), () => readAccess(req, res));
    send(res, plan, credentials);
  };
}

/**
 * Writes the `POST /v1/credentials` answer: what `res.json` would send (the same headers and
 * body), without Express's content-type lookups. Also used by the fast path, on Node's response.
 */
export function writeCredentialsAnswer(
  res: ServerResponse,
  plan: CredentialsPlan,
  credentials: IssuedCredentials,
  options: Pick<CredentialsRouteOptions, 'region' | 's3Endpoint' | 'forcePathStyle'>,
): void {
  const { body, headers } = credentialsAnswer(plan, credentials, options);
  for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
  res.end(body);
}

/**
 * The credentials answer's body and its own headers (never cached, JSON, its length) as a flat
 * `[name, value, ...]` list; {@link writeCredentialsAnswer} sets them, the fast path writes them
 * with the security headers in one `writeHead`.
 */
export function credentialsAnswer(
  plan: CredentialsPlan,
  credentials: IssuedCredentials,
  options: Pick<CredentialsRouteOptions, 'region' | 's3Endpoint' | 'forcePathStyle'>,
): { readonly body: string; readonly headers: readonly string[] } {
  const body = JSON.stringify(credentialsResponse(plan, credentials, options));
  return {
    body,
    headers: [
      'Cache-Control',
      'no-store',
      'Pragma',
      'no-cache',
      'Content-Type',
      'application/json; charset=utf-8',
      'Content-Length',
      String(Buffer.byteLength(body)),
    ],
  };
}

/**
 * `POST /v1/credentials` on Express: the optional `{ access }` body (read only once the caller is
 * known), and the protocol's credentials response. The broker also serves the common case of this
 * route without Express (server/routes/credentials-fast-path.ts), with the same `service`.
 */
export function credentialsHandler(
  options: CredentialsRouteOptions,
  service: CredentialsService = credentialsService(options),
): RequestHandler {
  return credentialsRoute(
    service,
    async (req, res) => {
      await readOptionalJsonBody(req, res, options.json);
      return parseCredentialsBody(req.body).access;
    },
    (res, plan, credentials) => writeCredentialsAnswer(res, plan, credentials, options),
  );
}
