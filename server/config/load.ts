// The one configuration loader: `npm run broker`, `npm start` and a Lambda entry all call it.
import type { TrustedIssuer } from '../auth/verify-token.js';
import { ConfigError } from '../errors.js';
import type { GrantRule } from '../grants.js';
import { readTrustProxy, type checkTrustProxy } from '../http/trust-proxy.js';
import { webAppFromEnv } from '../http/web-app.js';
import { withEnvFile } from './env-file.js';
import { checkDevLogin, issuersFrom } from './identity-env.js';
import { checkCognitoConfinement, grantsFrom } from './grants-env.js';
import { configError, Problems } from './problems.js';
import { redisFrom } from './redis-env.js';
import { readVariables, type Variables } from './schema.js';
import type { ConfigResult, KeyholeConfig } from './types.js';
import { uploadsFrom } from './uploads-env.js';
import { brokerKeysFrom, bucketCheckFrom, vendorFrom } from './vendor-env.js';

function trustProxyFrom(c: Variables, problems: Problems) {
  const name = 'KEYHOLE_TRUST_PROXY';
  const raw = c.KEYHOLE_TRUST_PROXY?.trim();
  const read = readTrustProxy(
    raw === undefined || raw === 'false' ? false : raw === 'true' ? true : /^\d+$/.test(raw) ? Number(raw) : raw,
  );
  if ('value' in read) return read.value;
  problems.add(name, read.refused);
  return undefined;
}

function checkLogFormat(c: Variables, problems: Problems): void {
  if (c.KEYHOLE_LOG_FORMAT === 'pretty' && c.NODE_ENV === 'production') {
    problems.add(
      'KEYHOLE_LOG_FORMAT',
      'must not be "pretty" when NODE_ENV=production: audit events stay JSON for log pipelines',
    );
  }
}

function webFrom(env: NodeJS.ProcessEnv, c: Variables, region: string | undefined, problems: Problems) {
  if (region === undefined || problems.anyUnreadable(['KEYHOLE_DEV_LOGIN', 'KEYHOLE_S3_ENDPOINT'])) return undefined;
  try {
    return webAppFromEnv(env, { devLogin: c.KEYHOLE_DEV_LOGIN, s3Endpoint: c.KEYHOLE_S3_ENDPOINT, region });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.addError(err);
    return undefined;
  }
}

/**
 * Validates the environment (and `KEYHOLE_ENV_FILE` under it) and answers the broker's
 * configuration, or every problem found, each naming its variable. Reads files (the env file, the
 * web app's directory) but never the network.
 */
export function parseConfig(rawEnv: NodeJS.ProcessEnv = process.env): ConfigResult {
  const problems = new Problems();
  let env: NodeJS.ProcessEnv;
  try {
    env = withEnvFile(rawEnv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.addError(err);
    return { ok: false, problems: problems.list };
  }
  const c = readVariables(env, problems);
  checkDevLogin(c, problems);
  checkLogFormat(c, problems);
  const issuers = issuersFrom(c, problems);
  const grants = grantsFrom(c, problems);
  if (grants) checkCognitoConfinement(c, grants, problems);
  const region = problems.need(c.AWS_REGION, 'AWS_REGION', 'for STS and for clients');
  const keys = brokerKeysFrom(c, problems);
  const trustProxy = trustProxyFrom(c, problems);
  const vendor = vendorFrom(c, problems, region, keys);
  const web = webFrom(env, c, region, problems);
  const redis = redisFrom(c, problems);
  const uploads = uploadsFrom(env, c, region, keys, grants, problems);
  if (problems.list.length > 0) return { ok: false, problems: problems.list };
  // No problem means every section built its part.
  const parts = {
    issuers: issuers!,
    grants: grants!,
    region: region!,
    keys: keys!,
    trustProxy: trustProxy!,
    vendor: vendor!,
    web,
    redis,
    uploads,
  };
  return { ok: true, config: assemble(c, parts) };
}

/** The parts the sections built; all present when no problem was found. */
interface Parts {
  readonly issuers: TrustedIssuer[];
  readonly grants: GrantRule[];
  readonly region: string;
  readonly keys: NonNullable<ReturnType<typeof brokerKeysFrom>>;
  readonly trustProxy: ReturnType<typeof checkTrustProxy>;
  readonly vendor: KeyholeConfig['vendor'];
  readonly web: KeyholeConfig['web'];
  readonly redis: KeyholeConfig['redis'];
  readonly uploads: KeyholeConfig['uploads'];
}

function assemble(c: Variables, p: Parts): KeyholeConfig {
  return {
    port: c.PORT,
    host: c.KEYHOLE_HOST,
    logLevel: c.KEYHOLE_LOG_LEVEL,
    logFormat: c.KEYHOLE_LOG_FORMAT,
    production: c.NODE_ENV === 'production',
    vendor: p.vendor,
    broker: {
      issuers: p.issuers,
      clockToleranceSeconds: c.KEYHOLE_CLOCK_TOLERANCE_SECONDS,
      maxTokenAgeSeconds: c.KEYHOLE_MAX_TOKEN_AGE_SECONDS,
      verifiedTokenCacheSeconds: c.KEYHOLE_JWT_CACHE_SECONDS,
      maxTokenBytes: c.KEYHOLE_MAX_TOKEN_BYTES,
      grants: p.grants,
      region: p.region,
      ...(c.KEYHOLE_S3_ENDPOINT ? { s3Endpoint: c.KEYHOLE_S3_ENDPOINT } : {}),
      ...(c.KEYHOLE_S3_FORCE_PATH_STYLE !== undefined ? { forcePathStyle: c.KEYHOLE_S3_FORCE_PATH_STYLE } : {}),
      durationSeconds: c.KEYHOLE_DURATION_SECONDS,
      devLogin: c.KEYHOLE_DEV_LOGIN,
      corsOrigins: c.KEYHOLE_CORS_ORIGINS,
      rateLimit: { perSubject: c.KEYHOLE_RATE_LIMIT_SUBJECT, perAddress: c.KEYHOLE_RATE_LIMIT_ADDRESS },
      trustProxy: p.trustProxy,
      metrics: c.KEYHOLE_METRICS,
      awsSdkRoute: c.KEYHOLE_SDK_CREDENTIALS_ROUTE,
    },
    bucketCheck: bucketCheckFrom(c, p.region, p.keys),
    web: p.web,
    redis: p.redis,
    uploads: p.uploads,
  };
}

/**
 * Validates the environment and returns the broker's configuration. Throws one ConfigError listing
 * every problem, one line each (`VARIABLE: what was expected`); see `configProblems` for the list.
 */
export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env): KeyholeConfig {
  const result = parseConfig(rawEnv);
  if (!result.ok) throw configError(result.problems);
  return result.config;
}
