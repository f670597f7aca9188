import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type Express, type Request, type Response } from 'express';
import helmet from 'helmet';
import { createDevLogin, DEV_AUDIENCE, DEV_ISSUER, DEV_NAMESPACE, isLoopbackPeer } from './auth/dev-login.js';
import type { BucketInspector } from './bucket-safety.js';
import { createTokenVerifier, type TrustedIssuer } from './auth/verify-token.js';
import { CredentialCache } from './credential-cache.js';
import { KeyholeError } from './errors.js';
import { compileGrants, resolveGrant, type GrantRule } from './grants.js';
import { bearerToken } from './http/bearer.js';
import { errorHandler, notFound, toKeyholeError } from './http/errors.js';
import { clientAddressKey, RateLimiter, type RateLimit } from './http/rate-limit.js';
import { checkTrustProxy, type TrustProxy } from './http/trust-proxy.js';
import { readiness } from './http/readiness.js';
import { parseCredentialsBody } from './http/request-body.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { buildSessionPolicy } from './policy/session-policy.js';
import { checkIssuerSeparation } from './policy/issuer-separation.js';
import { sessionNameFor } from './policy/session-name.js';
import { sessionRestrictions } from './policy/session-restrictions.js';
import type { CredentialVendor } from './vendors/vendor.js';

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
  /** Serve Prometheus metrics at GET /metrics. Default false. */
  readonly metrics?: boolean;
  /** Logger. Default: pino JSON on stdout at level "info". */
  readonly logger?: Logger;
  /** Largest accepted request body, in bytes. Default 2048. */
  readonly maxBodyBytes?: number;
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

/**
 * Creates the Keyhole token broker as an Express app. Options are validated here, once: a misuse
 * throws TypeError or RangeError naming the option. The caller's options object is not modified.
 *
 * @example
 * ```ts
 * const app = createBroker({
 *   issuers: [{ issuer: 'https://id.example.com/', audience: 'keyhole', jwksUrl: 'https://id.example.com/jwks.json' }],
 *   grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] }],
 *   vendor: createStsVendor({ roleArn: 'arn:aws:iam::123456789012:role/keyhole-uploader', region: 'eu-west-1' }),
 *   region: 'eu-west-1',
 * })
 * app.listen(8787)
 * ```
 */
export function createBroker(options: BrokerOptions): Express {
  if (!options || typeof options !== 'object') throw new TypeError('options must be an object');
  const vendor = options.vendor;
  if (!vendor || typeof vendor.issue !== 'function' || typeof vendor.identityIdFor !== 'function') {
    throw new TypeError('options.vendor must be a credential vendor such as createStsVendor(...)');
  }
  if (typeof options.region !== 'string' || options.region === '')
    throw new TypeError('options.region must be a non-empty string');
  const rules = compileGrants(options.grants);
  const durationSeconds = options.durationSeconds ?? 900;
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43200) {
    throw new RangeError('options.durationSeconds must be an integer from 900 to 43200');
  }
  let s3Endpoint: string | undefined;
  if (options.s3Endpoint !== undefined) {
    const parsed = URL.canParse(options.s3Endpoint) ? new URL(options.s3Endpoint) : undefined;
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new TypeError('options.s3Endpoint must be an absolute http(s) URL');
    }
    s3Endpoint = parsed.origin;
  }
  const forcePathStyle = options.forcePathStyle ?? s3Endpoint !== undefined;
  const maxBodyBytes = options.maxBodyBytes ?? 2048;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 64 || maxBodyBytes > 65536) {
    throw new RangeError('options.maxBodyBytes must be an integer from 64 to 65536');
  }
  const corsOrigins = [...(options.corsOrigins ?? [])];
  for (const origin of corsOrigins) {
    if (typeof origin !== 'string' || origin === '*' || new URL(origin).origin !== origin) {
      throw new TypeError(
        `options.corsOrigins entries must be exact origins like "https://app.example.com"; got "${String(origin)}"`,
      );
    }
  }
  const rate =
    options.rateLimit === false
      ? { perSubject: false as const, perAddress: false as const }
      : { ...DEFAULT_RATE, ...options.rateLimit };
  const perSubject = checkRate(rate.perSubject, 'options.rateLimit.perSubject');
  const perAddress = checkRate(rate.perAddress, 'options.rateLimit.perAddress');
  const cacheOption = options.credentialCache ?? { maxEntries: 10000 };
  if (cacheOption !== false && (!Number.isInteger(cacheOption.maxEntries) || cacheOption.maxEntries < 1)) {
    throw new RangeError('options.credentialCache.maxEntries must be a positive integer');
  }
  const trustProxy = checkTrustProxy(options.trustProxy, 'options.trustProxy');
  const bucketCheck = options.bucketCheck;
  if (bucketCheck !== undefined && bucketCheck !== 'accept-risk' && typeof bucketCheck !== 'function') {
    throw new TypeError('options.bucketCheck must be a bucket inspector (createBucketInspector(...)) or "accept-risk"');
  }
  if (options.devLogin === true && (options.issuers?.length ?? 0) > 0) {
    throw new TypeError(
      'options.devLogin cannot be combined with options.issuers: dev login signs in anyone as anyone, ' +
        'so it would reach real users; run a separate local broker for development',
    );
  }
  const devLogin = options.devLogin === true ? createDevLogin() : undefined;
  const issuers: TrustedIssuer[] = [...(options.issuers ?? [])];
  if (devLogin)
    issuers.push({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, publicKey: devLogin.publicKey, algorithms: ['EdDSA'] });
  if (issuers.length === 0)
    throw new TypeError('options.issuers must list at least one trusted issuer (or set devLogin: true)');
  checkIssuerSeparation(
    options.issuers?.length ?? 0,
    rules.flatMap((r) => r.scopes.map((s) => s.template)),
  );
  vendor.checkGrants?.(options.grants);
  const verify = createTokenVerifier({
    issuers,
    ...(options.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: options.clockToleranceSeconds } : {}),
    ...(options.maxTokenBytes !== undefined ? { maxTokenBytes: options.maxTokenBytes } : {}),
    ...(options.maxTokenAgeSeconds !== undefined ? { maxTokenAgeSeconds: options.maxTokenAgeSeconds } : {}),
  });
  const logger = options.logger ?? createLogger();
  const cache = cacheOption === false ? undefined : new CredentialCache(cacheOption.maxEntries);
  const subjectLimiter = perSubject ? new RateLimiter(perSubject) : undefined;
  const addressLimiter = perAddress ? new RateLimiter(perAddress) : undefined;
  const metrics = createMetrics(vendor);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', trustProxy);
  app.locals.keyhole = { vendor, metrics, cache };

  app.use((req, res, next) => {
    res.locals.requestId = randomUUID();
    res.set('X-Request-Id', res.locals.requestId);
    next();
  });
  // A JSON API: no content to frame, sniff or embed.
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-site' },
    }),
  );
  app.use(
    cors({
      origin: corsOrigins,
      methods: ['POST', 'GET'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'X-Request-Id', 'Date'],
      maxAge: 600,
    }),
  );
  const json = express.json({ limit: maxBodyBytes, strict: true, type: () => true });

  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  const ready = readiness({
    vendor,
    durationSeconds,
    buckets: [...new Set(rules.map((r) => r.bucket))],
    bucketCheck,
    logger,
  });
  void ready.checkBuckets();
  app.get('/readyz', ready.handler);

  if (options.metrics) {
    app.get('/metrics', async (_req, res) => {
      res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  if (devLogin) {
    logger.warn(
      { event: 'dev_login.enabled' },
      'POST /v1/dev/token is enabled: anyone can sign in as anyone. Local development only.',
    );
    app.post('/v1/dev/token', json, async (req, res) => {
      // The TCP peer, not req.ip: a trusted proxy's X-Forwarded-For must not make a remote caller local.
      if (!isLoopbackPeer(req.socket.remoteAddress)) {
        throw new KeyholeError('dev_login_remote', 403, 'dev login answers loopback callers only');
      }
      const token = await devLogin.mint(req.body);
      res.set('Cache-Control', 'no-store').json({ token });
    });
  }

  // Every failed credentials request is audited, including body-parser and unexpected errors,
  // with the status and code the client will see. The token itself is never logged.
  const refuse = (req: Request, res: Response, err: unknown, subject?: string): never => {
    const refusal = toKeyholeError(err);
    metrics.refused.inc({ code: refusal.code });
    logger.info({
      event: 'credentials.refused',
      requestId: res.locals.requestId,
      status: refusal.status,
      code: refusal.code,
      sub: subject,
      ip: req.ip,
    });
    throw err;
  };

  app.post('/v1/credentials', async (req, res) => {
    const started = performance.now();
    let subject: string | undefined;
    try {
      addressLimiter?.hit(clientAddressKey(req.ip), 'client address');
      const verified = await verify(bearerToken(req));
      const dev = verified.iss === DEV_ISSUER;
      // A dev identity keeps only who it is: claims it chose itself never satisfy a grant's `when`.
      const claims = dev ? { iss: DEV_ISSUER, sub: verified.sub, exp: verified.exp } : verified;
      const issuer = claims.iss ?? '';
      const namespace = dev ? DEV_NAMESPACE : '';
      subject = claims.sub;
      subjectLimiter?.hit(`sub:${claims.iss}:${claims.sub}`, 'subject');
      const length = Number(req.get('content-length') ?? 0);
      if (length > 0 || req.get('transfer-encoding')) {
        if (!req.is('application/json')) {
          throw new KeyholeError('unsupported_media_type', 415, 'the request body must be application/json');
        }
        await new Promise<void>((resolve, reject) =>
          json(req, res, (err?: unknown) => (err ? reject(err) : resolve())),
        );
      }
      const { access } = parseCredentialsBody(req.body);
      const identityId = await vendor.identityIdFor(claims.sub, issuer);
      const resolved = resolveGrant(rules, claims, access, identityId, namespace);
      const restrictions = sessionRestrictions(resolved.session, req.ip, claims.exp);
      const scoped = vendor.scopeGrant
        ? vendor.scopeGrant(resolved.bucket, resolved.scopes, identityId, restrictions)
        : { scopes: resolved.scopes, policy: buildSessionPolicy(resolved.bucket, resolved.scopes, restrictions) };
      const grant = { ...resolved, scopes: scoped.scopes };
      const policy = scoped.policy;
      const sessionName = sessionNameFor(namespace + claims.sub, issuer);
      const issue = () =>
        vendor.issue({ subject: claims.sub, issuer, identityId, sessionName, policy, durationSeconds });
      // Everything that shapes the credential is in the key: two callers, or one caller asking for
      // less, never share an STS session.
      const { credentials: issued, cached } = cache
        ? await cache.get(
            CredentialCache.keyFor([vendor.kind, issuer, identityId, sessionName, policy, String(durationSeconds)]),
            durationSeconds,
            issue,
          )
        : { credentials: await issue(), cached: false };
      // The policy stops the credentials at the token's expiry; say so, so clients refresh in time.
      const bounded = vendor.appliesSessionPolicy !== false && restrictions.notAfter !== undefined;
      const expiration =
        bounded && restrictions.notAfter! < issued.expiration ? restrictions.notAfter! : issued.expiration;
      const credentials = { ...issued, expiration };
      const primary = grant.scopes[0]!;
      logger.info({
        event: 'credentials.issued',
        requestId: res.locals.requestId,
        sub: claims.sub,
        iss: claims.iss,
        identityId,
        sourceIp: restrictions.sourceCidr,
        bucket: grant.bucket,
        prefix: primary.prefix,
        access: grant.access,
        sessionName,
        expiration: credentials.expiration.toISOString(),
        cached,
        ip: req.ip,
      });
      metrics.issued.inc({ cached: String(cached) });
      metrics.duration.observe((performance.now() - started) / 1000);
      res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache');
      res.json({
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
          expiration: credentials.expiration.toISOString(),
        },
        bucket: grant.bucket,
        region: options.region,
        prefix: primary.prefix,
        identityId,
        access: grant.access,
        ...(grant.scopes.length > 1
          ? { scopes: grant.scopes.map((s) => ({ prefix: s.prefix, access: s.access })) }
          : {}),
        ...(s3Endpoint ? { endpoint: s3Endpoint, forcePathStyle } : {}),
      });
    } catch (err) {
      refuse(req, res, err, subject);
    }
  });

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
