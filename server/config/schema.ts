// Every environment variable the broker reads, its type and its default. Each is validated on its
// own, so that each problem names exactly one variable.
import { z } from 'zod';
import { DEFAULT_ALGORITHMS } from '../auth/verify-token.js';
import { ALL_ACCESS, type Access } from '../policy/access.js';
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  DURATION_SECONDS,
  IDENTITY_POOL_ID,
  REGION,
  ROLE_ARN,
  ROLE_ARN_EXAMPLE,
} from './formats.js';
import type { Problems } from './problems.js';
import { bindSourceIp, flag, got, int, list, origins, rate, redisKeys, redisUrl, url } from './values.js';

/** How the broker writes its log: `auto` is human-readable on a terminal, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const VARIABLES = {
  PORT: int(0, 65535).default(DEFAULT_PORT),
  KEYHOLE_HOST: z.string().min(1).default(DEFAULT_HOST),
  KEYHOLE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KEYHOLE_LOG_FORMAT: z.enum(LOG_FORMATS, { message: 'expected "auto", "json" or "pretty"' }).default('auto'),
  KEYHOLE_JWT_ISSUER: z.string().min(1).optional(),
  KEYHOLE_JWT_AUDIENCE: list.pipe(z.array(z.string()).min(1, 'expected at least one audience')).optional(),
  KEYHOLE_JWKS_URL: url.optional(),
  KEYHOLE_JWT_PUBLIC_KEY: z
    .string()
    .includes('-----BEGIN PUBLIC KEY-----', { message: 'expected a PEM SPKI public key' })
    .optional(),
  KEYHOLE_JWT_ALGORITHMS: list
    .pipe(
      z
        .array(
          z.enum(DEFAULT_ALGORITHMS as [string, ...string[]], {
            message: `expected a comma list of ${DEFAULT_ALGORITHMS.join(', ')}`,
          }),
        )
        .min(1),
    )
    .optional(),
  KEYHOLE_CLOCK_TOLERANCE_SECONDS: int(0, 300).default(30),
  KEYHOLE_MAX_TOKEN_BYTES: int(256, 65536).default(8192),
  KEYHOLE_BUCKET: z.string().min(3).optional(),
  KEYHOLE_PREFIX_TEMPLATE: z.string().default('users/{sub}/'),
  KEYHOLE_ACCESS: list
    .pipe(
      z
        .array(
          z.enum(ALL_ACCESS as [Access, ...Access[]], {
            message: 'expected a comma list of read, write, list, delete',
          }),
        )
        .min(1),
    )
    .default([...ALL_ACCESS]),
  KEYHOLE_GRANTS: z.string().optional(),
  KEYHOLE_VENDOR: z.enum(['sts', 'cognito'], { message: 'expected "sts" or "cognito"' }).default('sts'),
  KEYHOLE_COGNITO_IDENTITY_POOL_ID: z
    .string()
    .regex(IDENTITY_POOL_ID, 'expected an identity pool id such as eu-west-1:<uuid>')
    .optional(),
  KEYHOLE_COGNITO_DEVELOPER_PROVIDER: z
    .string()
    .regex(/^[\w.-]{1,100}$/, 'expected the pool\u2019s developer provider name (letters, digits, _ . -)')
    .optional(),
  KEYHOLE_COGNITO_MODE: z.enum(['enhanced', 'basic'], { message: 'expected "enhanced" or "basic"' }).optional(),
  KEYHOLE_ROLE_ARN: z.string().regex(ROLE_ARN, `expected an IAM role ARN such as ${ROLE_ARN_EXAMPLE}`).optional(),
  AWS_REGION: z.string().regex(REGION, 'expected a region name such as eu-west-1').optional(),
  KEYHOLE_STS_ENDPOINT: url.optional(),
  KEYHOLE_S3_ENDPOINT: url.optional(),
  KEYHOLE_S3_FORCE_PATH_STYLE: flag.optional(),
  KEYHOLE_BROKER_ACCESS_KEY_ID: z.string().min(1).optional(),
  KEYHOLE_BROKER_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  KEYHOLE_DURATION_SECONDS: int(DURATION_SECONDS.min, DURATION_SECONDS.max).default(DURATION_SECONDS.default),
  KEYHOLE_DEV_LOGIN: flag.default(false),
  KEYHOLE_CORS_ORIGINS: origins.default([]),
  KEYHOLE_RATE_LIMIT_SUBJECT: z.string().default('60/60').pipe(rate),
  KEYHOLE_RATE_LIMIT_ADDRESS: z.string().default('600/60').pipe(rate),
  KEYHOLE_TRUST_PROXY: z.string().optional(),
  KEYHOLE_MAX_TOKEN_AGE_SECONDS: int(60, 31_536_000).default(86400),
  KEYHOLE_JWT_CACHE_SECONDS: int(0, 300).default(60),
  KEYHOLE_BIND_SOURCE_IP: bindSourceIp.optional(),
  KEYHOLE_ALLOW_PRESIGNED_URLS: flag.default(false),
  KEYHOLE_ALLOW_TAGGING: flag.default(false),
  KEYHOLE_EXPIRE_WITH_TOKEN: flag.default(true),
  KEYHOLE_ACCEPT_PUBLIC_ACL_RISK: flag.default(false),
  KEYHOLE_METRICS: flag.default(false),
  KEYHOLE_SDK_CREDENTIALS_ROUTE: flag.default(false),
  KEYHOLE_REDIS_URL: redisUrl.optional(),
  KEYHOLE_REDIS_KEYS: redisKeys.optional(),
  KEYHOLE_REDIS_TIMEOUT_MS: int(10, 10_000).default(200),
  KEYHOLE_REDIS_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, 'expected up to 64 letters, digits or _ : . - such as "keyhole:"')
    .default('keyhole:'),
  KEYHOLE_UPLOAD_MAX_BYTES: int(1, Number.MAX_SAFE_INTEGER).optional(),
  KEYHOLE_UPLOAD_CONTENT_TYPES: list
    .pipe(z.array(z.string()).min(1, 'expected MIME patterns such as image/*'))
    .optional(),
  KEYHOLE_UPLOAD_QUOTA_BYTES: int(1, Number.MAX_SAFE_INTEGER).optional(),
  KEYHOLE_NOTIFY_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9_-]{32,256}$/, 'expected 32 to 256 letters, digits, "_" or "-" (openssl rand -hex 32)')
    .optional(),
  NODE_ENV: z.string().optional(),
} as const;

export type VariableName = keyof typeof VARIABLES;

/** Variables whose value is never echoed in a problem: it is, or may contain, a secret. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'KEYHOLE_REDIS_KEYS',
  'KEYHOLE_REDIS_URL',
  'KEYHOLE_NOTIFY_TOKEN',
]);

/** The variables' values. One that could not be parsed is undefined and marked in `Problems`. */
export type Variables = { readonly [K in VariableName]: z.output<(typeof VARIABLES)[K]> };

/** Parses every variable in `env` (an empty string counts as unset). */
export function readVariables(env: Readonly<Record<string, string | undefined>>, problems: Problems): Variables {
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(VARIABLES)) {
    const value = env[name] === '' ? undefined : env[name];
    const parsed = (type as z.ZodType).safeParse(value);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      const message = parsed.error.issues[0]?.message ?? 'invalid value';
      const echo = value !== undefined && !SECRET_VARIABLES.has(name);
      problems.unreadable(name, echo ? `${message} (${got(value)})` : message);
    }
  }
  return out as Variables;
}
