import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { createDevLogin, DEV_AUDIENCE, DEV_ISSUER, DEV_NAMESPACE, type DevLogin } from './auth/dev-login.js';
import { createTokenVerifier, type TokenVerifier, type TrustedIssuer } from './auth/verify-token.js';
import { checkBrokerOptions, type BrokerOptions } from './broker-options.js';
import { CredentialCache } from './credential-cache.js';
import { errorHandler, notFound } from './http/errors.js';
import { RateLimiter, type RateLimit } from './http/rate-limit.js';
import { readiness } from './http/readiness.js';
import { refusedOrigins } from './http/refused-origins.js';
import { jsonBody } from './http/request-body.js';
import { requestId } from './http/request-id.js';
import { securityHeaders } from './http/security-headers.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { awsSdkCredentialsHandler } from './routes/aws-sdk-credentials.js';
import { credentialsHandler, credentialsService } from './routes/credentials.js';
import { credentialsFastPath, type FastPath } from './routes/credentials-fast-path.js';
import { SharedCredentialCache } from './shared/credential-cache.js';
import { SharedRateLimiter } from './shared/rate-limit.js';
import type { SharedState } from './shared/state.js';
import { devTokenHandler } from './routes/dev-token.js';
import { healthz } from './routes/health.js';
import { metricsHandler } from './routes/metrics.js';
import { uploadsCompleteHandler } from './routes/uploads-complete.js';
import { uploadsNotifyHandler } from './routes/uploads-notify.js';
import { dispatchTo } from './events/dispatch.js';
import { WebhookSender } from './events/webhook.js';
import { UploadCompleter } from './uploads/complete.js';
import { checkUploadsOptions } from './uploads/options.js';
import { reconcileUploads, type ReconcileWindow } from './uploads/reconcile.js';

export type { BrokerOptions } from './broker-options.js';

function cacheFor(maxEntries: number | false, shared: SharedState | undefined) {
  if (maxEntries === false) return undefined;
  return shared ? new SharedCredentialCache(shared, maxEntries) : new CredentialCache(maxEntries);
}

function limiterFor(limit: RateLimit | false, shared: SharedState | undefined, name: string) {
  if (limit === false) return undefined;
  return shared ? new SharedRateLimiter(shared, limit, name) : new RateLimiter(limit);
}

// The dev login's key is made per broker, so its issuer entry is too.
function tokenVerifier(options: BrokerOptions, issuers: readonly TrustedIssuer[], devLogin?: DevLogin): TokenVerifier {
  const dev: TrustedIssuer[] = devLogin
    ? [{ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, publicKey: devLogin.publicKey, algorithms: ['EdDSA'] }]
    : [];
  return createTokenVerifier({
    issuers: [...issuers, ...dev],
    ...(options.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: options.clockToleranceSeconds } : {}),
    ...(options.maxTokenBytes !== undefined ? { maxTokenBytes: options.maxTokenBytes } : {}),
    ...(options.maxTokenAgeSeconds !== undefined ? { maxTokenAgeSeconds: options.maxTokenAgeSeconds } : {}),
    ...(options.verifiedTokenCacheSeconds !== undefined
      ? { verifiedTokenCacheSeconds: options.verifiedTokenCacheSeconds }
      : {}),
  });
}

/**
 * Lets `fastPath` answer a request before Express does. Express hands every request to
 * `app.handle`, both as a server's listener and when the app is mounted in another app (then with
 * the mount path stripped from `req.url`), so the fast path sits there.
 */
function takeFastPath(app: Express, fastPath: FastPath): void {
  const expressApp = app as unknown as { handle: (req: IncomingMessage, res: ServerResponse, next?: unknown) => void };
  const handle = expressApp.handle.bind(app);
  expressApp.handle = (req, res, next) => {
    if (!fastPath(req, res)) handle(req, res, next);
  };
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
  const settings = checkBrokerOptions(options);
  const { vendor, rules, durationSeconds } = settings;
  const uploads = checkUploadsOptions(options.uploads, rules, options.onUpload);
  const devLogin = settings.devLogin ? createDevLogin() : undefined;
  const verify = tokenVerifier(options, settings.issuers, devLogin);
  const logger = options.logger ?? createLogger();
  const shared = settings.sharedState;
  const cache = cacheFor(settings.cacheMaxEntries, shared);
  const metrics = createMetrics(vendor, shared);
  const json = jsonBody(settings.maxBodyBytes);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', settings.trustProxy);
  app.locals.keyhole = { vendor, metrics, cache };
  const headers = securityHeaders(settings.corsOrigins);
  app.use(requestId, refusedOrigins(settings.corsOrigins, logger), ...headers.middlewares);

  app.get('/healthz', healthz);
  const buckets = [...new Set(rules.map((r) => r.bucket))];
  const ready = readiness({
    vendor,
    durationSeconds,
    buckets,
    bucketCheck: settings.bucketCheck,
    logger,
    ...(shared ? { sharedState: () => shared.status() } : {}),
  });
  void ready.checkBuckets();
  app.get('/readyz', ready.handler);
  if (settings.metrics) app.get('/metrics', metricsHandler(metrics.registry));
  if (devLogin) app.post('/v1/dev/token', json, devTokenHandler(devLogin, logger));
  const credentialsOptions = {
    ...settings,
    verify,
    json,
    cache,
    subjectLimiter: limiterFor(settings.perSubject, shared, 'sub'),
    addressLimiter: limiterFor(settings.perAddress, shared, 'addr'),
    metrics,
    logger,
  };
  const service = credentialsService(credentialsOptions);
  app.post('/v1/credentials', credentialsHandler(credentialsOptions, service));
  if (settings.awsSdkRoute) app.get('/v1/credentials/aws-sdk', awsSdkCredentialsHandler(credentialsOptions, service));
  takeFastPath(
    app,
    credentialsFastPath({ app, service, headers, maxBodyBytes: settings.maxBodyBytes, route: settings, logger }),
  );

  if (uploads) {
    const webhook = uploads.webhook && new WebhookSender(uploads.webhook, logger);
    const completer = new UploadCompleter(uploads, logger, dispatchTo(options.onUpload, webhook, logger));
    // reconcileBrokerUploads(app, …): the same completer, so objects this broker judged send no event again.
    app.locals.keyhole.reconcile = (window: ReconcileWindow) =>
      reconcileUploads({
        ...window,
        rules,
        settings: uploads,
        completer,
        devNamespace: settings.devLogin ? DEV_NAMESPACE : '',
        logger,
      });
    if (uploads.notifications) {
      const { token, keyEncoding } = uploads.notifications;
      app.post(
        '/v1/uploads/notify',
        uploadsNotifyHandler({
          token,
          keyEncoding,
          rules,
          json: jsonBody(65536),
          completer,
          devLogin: settings.devLogin,
          logger,
        }),
      );
    }
    app.post(
      '/v1/uploads/complete',
      uploadsCompleteHandler({
        verify,
        rules,
        vendor,
        json,
        completer,
        subjectLimiter: limiterFor(settings.perSubject, shared, 'upl-sub'),
        addressLimiter: limiterFor(settings.perAddress, shared, 'upl-addr'),
        logger,
      }),
    );
  }

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
