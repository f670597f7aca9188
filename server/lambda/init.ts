// Builds the broker for a Lambda container from the environment, with the same loader and wiring
// as `npm run broker` (server/config.ts), plus the checks that only apply behind API Gateway.
import type { Express } from 'express';
import { brokerAppFrom, loadConfig, withEnvFile, type KeyholeConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../logger.js';
import { httpApiHandler, type HttpApiEvent, type HttpApiResult } from './adapter.js';

/** Variables that mean nothing, or something unsafe, in a Lambda behind API Gateway. */
const REFUSED_IN_LAMBDA: Readonly<Record<string, (value: string) => string | undefined>> = {
  KEYHOLE_DEV_LOGIN: (v) =>
    v === '1' || v === 'true'
      ? 'is not available in the Lambda handler: dev login signs in anyone as anyone; deploy a real issuer (KEYHOLE_JWT_ISSUER)'
      : undefined,
  KEYHOLE_TRUST_PROXY: (v) =>
    v.trim() !== 'false'
      ? 'must be unset in the Lambda handler: the client address is requestContext.http.sourceIp, which API Gateway ' +
        'takes from the connection, while X-Forwarded-For is partly written by the client'
      : undefined,
  KEYHOLE_WEB_DIR: () =>
    'is not served by the Lambda handler: host client/web/dist on S3 or a CDN and add its origin to KEYHOLE_CORS_ORIGINS',
};

/** One Lambda container's broker: built once, at module initialisation, and reused by every request. */
export interface LambdaBroker {
  readonly config: KeyholeConfig;
  /** The Express app `createBroker` built (JWKS cache, STS client, credential cache, rate limits). */
  readonly app: Express;
  readonly handler: (event: HttpApiEvent) => Promise<HttpApiResult>;
}

/**
 * Validates `env` like `npm run broker` does and refuses what cannot work behind API Gateway.
 * Throws ConfigError naming the variable. Reads no network: `infra/aws` runs it at synth time on the
 * environment it deploys, so a wrong value fails `npm run aws:synth`, not the first cold start.
 */
export function lambdaConfig(rawEnv: NodeJS.ProcessEnv = process.env): KeyholeConfig {
  const env = withEnvFile(rawEnv);
  for (const [name, check] of Object.entries(REFUSED_IN_LAMBDA)) {
    const value = env[name];
    const problem = value === undefined || value === '' ? undefined : check(value);
    if (problem) throw new ConfigError(name, problem);
  }
  return loadConfig(env);
}

/** {@link lambdaConfig}, then the broker and its HTTP API handler. */
export function lambdaBroker(
  rawEnv: NodeJS.ProcessEnv = process.env,
  options: { readonly logDestination?: NodeJS.WritableStream } = {},
): LambdaBroker {
  const config = lambdaConfig(rawEnv);
  const app = brokerAppFrom(config, createLogger(config.logLevel, options.logDestination));
  return { config, app, handler: httpApiHandler(app) };
}
