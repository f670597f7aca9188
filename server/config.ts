import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { DEFAULT_ALGORITHMS, type TrustedIssuer } from './auth/verify-token.js';
import type { BrokerOptions } from './broker.js';
import { isLoopbackHost } from './auth/dev-login.js';
import type { BucketInspectorOptions } from './bucket-safety.js';
import { ConfigError } from './errors.js';
import { checkTrustProxy } from './http/trust-proxy.js';
import { compileGrants, type GrantRule } from './grants.js';
import { ALL_ACCESS, type Access } from './policy/access.js';
import type { RateLimit } from './http/rate-limit.js';
import type { StsVendorOptions } from './vendors/sts.js';
import type { CognitoVendorOptions } from './vendors/cognito.js';
import { unconfinedPrefix, unconfinedPrefixReason } from './vendors/cognito-grants.js';

/** Everything `npm run broker` needs, parsed from the environment. */
export interface KeyholeConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  readonly vendor:
    ({ readonly kind: 'sts' } & StsVendorOptions) | ({ readonly kind: 'cognito' } & CognitoVendorOptions);
  readonly broker: Omit<BrokerOptions, 'vendor' | 'logger' | 'bucketCheck'>;
  /** How `/readyz` checks the buckets' ACL settings: with the broker's own S3 access, or not at all. */
  readonly bucketCheck: BucketInspectorOptions | 'accept-risk';
}

const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `expected an integer from ${min} to ${max}`)
        .max(max, `expected an integer from ${min} to ${max}`),
    );
const url = z.string().url('expected an absolute URL such as https://host:port');
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const rate = z
  .string()
  .regex(/^(off|\d+\/\d+)$/, 'expected "LIMIT/WINDOW_SECONDS" such as "60/60", or "off"')
  .transform((v): RateLimit | false => {
    if (v === 'off') return false;
    const [limit, windowSeconds] = v.split('/').map(Number) as [number, number];
    return { limit, windowSeconds };
  })
  .refine((v) => v === false || (v.limit >= 1 && v.windowSeconds >= 1), 'expected positive numbers');

// Each variable is validated on its own so that an error names exactly one variable.
const schema = {
  PORT: int(0, 65535).default(8787),
  KEYHOLE_HOST: z.string().min(1).default('127.0.0.1'),
  KEYHOLE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
    .regex(
      /^[a-z]{2}(-[a-z]+)+-\d:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      'expected an identity pool id such as eu-west-1:<uuid>',
    )
    .optional(),
  KEYHOLE_COGNITO_DEVELOPER_PROVIDER: z
    .string()
    .regex(/^[\w.-]{1,100}$/, 'expected the pool\u2019s developer provider name (letters, digits, _ . -)')
    .optional(),
  KEYHOLE_COGNITO_MODE: z.enum(['enhanced', 'basic'], { message: 'expected "enhanced" or "basic"' }).optional(),
  KEYHOLE_ROLE_ARN: z
    .string()
    .regex(
      /^arn:aws[\w-]*:iam::\d{0,12}:role\/\S+$/,
      'expected an IAM role ARN such as arn:aws:iam::123456789012:role/NAME',
    )
    .optional(),
  AWS_REGION: z
    .string()
    .regex(/^[a-z0-9-]{2,32}$/, 'expected a region name such as eu-west-1')
    .optional(),
  KEYHOLE_STS_ENDPOINT: url.optional(),
  KEYHOLE_S3_ENDPOINT: url.optional(),
  KEYHOLE_S3_FORCE_PATH_STYLE: flag.optional(),
  KEYHOLE_BROKER_ACCESS_KEY_ID: z.string().min(1).optional(),
  KEYHOLE_BROKER_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  KEYHOLE_DURATION_SECONDS: int(900, 43200).default(900),
  KEYHOLE_DEV_LOGIN: flag.default(false),
  KEYHOLE_CORS_ORIGINS: list.default([]),
  KEYHOLE_RATE_LIMIT_SUBJECT: z.string().default('60/60').pipe(rate),
  KEYHOLE_RATE_LIMIT_ADDRESS: z.string().default('600/60').pipe(rate),
  KEYHOLE_TRUST_PROXY: z.string().optional(),
  KEYHOLE_MAX_TOKEN_AGE_SECONDS: int(60, 31_536_000).default(86400),
  KEYHOLE_BIND_SOURCE_IP: z
    .string()
    .regex(
      /^(off|on|\d{1,2},\d{1,3})$/,
      'expected "off", "on" (exact address) or "IPV4_BITS,IPV6_BITS" such as "24,64"',
    )
    .optional(),
  KEYHOLE_ALLOW_PRESIGNED_URLS: flag.default(false),
  KEYHOLE_ALLOW_TAGGING: flag.default(false),
  KEYHOLE_EXPIRE_WITH_TOKEN: flag.default(true),
  KEYHOLE_ACCEPT_PUBLIC_ACL_RISK: flag.default(false),
  KEYHOLE_METRICS: flag.default(false),
  NODE_ENV: z.string().optional(),
} as const;

type Parsed = { [K in keyof typeof schema]: z.output<(typeof schema)[K]> };

const grantsSchema = z.array(
  z.strictObject({
    when: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    bucket: z.string(),
    scopes: z.array(
      z.strictObject({ prefix: z.string(), access: z.array(z.enum(ALL_ACCESS as [Access, ...Access[]])) }),
    ),
    session: z
      .strictObject({
        bindSourceIp: z
          .union([
            z.boolean(),
            z.strictObject({ ipv4PrefixLength: z.number().optional(), ipv6PrefixLength: z.number().optional() }),
          ])
          .optional(),
        allowPresignedUrls: z.boolean().optional(),
        allowTagging: z.boolean().optional(),
        expireWithToken: z.boolean().optional(),
      })
      .optional(),
  }),
);

function vendorConfig(c: Parsed, region: string): KeyholeConfig['vendor'] {
  const credentials = c.KEYHOLE_BROKER_ACCESS_KEY_ID
    ? {
        credentials: {
          accessKeyId: c.KEYHOLE_BROKER_ACCESS_KEY_ID,
          secretAccessKey: c.KEYHOLE_BROKER_SECRET_ACCESS_KEY!,
        },
      }
    : {};
  if (c.KEYHOLE_VENDOR === 'cognito') {
    const mode = need(
      c.KEYHOLE_COGNITO_MODE,
      'KEYHOLE_COGNITO_MODE',
      'for KEYHOLE_VENDOR=cognito ("enhanced" or "basic")',
    );
    if (c.KEYHOLE_ROLE_ARN !== undefined && !/^arn:aws[\w-]*:iam::\d{12}:role\//.test(c.KEYHOLE_ROLE_ARN)) {
      throw new ConfigError(
        'KEYHOLE_ROLE_ARN',
        'must name a role in an AWS account (12-digit id) for KEYHOLE_VENDOR=cognito',
      );
    }
    return {
      kind: 'cognito',
      identityPoolId: need(
        c.KEYHOLE_COGNITO_IDENTITY_POOL_ID,
        'KEYHOLE_COGNITO_IDENTITY_POOL_ID',
        'for KEYHOLE_VENDOR=cognito',
      ),
      developerProviderName: need(
        c.KEYHOLE_COGNITO_DEVELOPER_PROVIDER,
        'KEYHOLE_COGNITO_DEVELOPER_PROVIDER',
        'for KEYHOLE_VENDOR=cognito',
      ),
      mode,
      region,
      ...(mode === 'basic'
        ? { roleArn: need(c.KEYHOLE_ROLE_ARN, 'KEYHOLE_ROLE_ARN', 'for KEYHOLE_COGNITO_MODE=basic') }
        : c.KEYHOLE_ROLE_ARN !== undefined
          ? { roleArn: c.KEYHOLE_ROLE_ARN }
          : {}),
      ...credentials,
    };
  }
  return {
    kind: 'sts',
    roleArn: need(c.KEYHOLE_ROLE_ARN, 'KEYHOLE_ROLE_ARN', 'for KEYHOLE_VENDOR=sts'),
    region,
    ...(c.KEYHOLE_STS_ENDPOINT ? { endpoint: c.KEYHOLE_STS_ENDPOINT } : {}),
    ...credentials,
  };
}

function need<T>(value: T | undefined, variable: string, why: string): T {
  if (value === undefined) throw new ConfigError(variable, `is required ${why}`);
  return value;
}

/**
 * Reads `KEY=VALUE` lines from `KEYHOLE_ENV_FILE` (when set) under the real environment, which wins.
 */
export function withEnvFile(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = env.KEYHOLE_ENV_FILE;
  if (!file) return env;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'KEYHOLE_ENV_FILE',
      `cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'}); run \`npm run local:up\` to create it`,
    );
  }
  return { ...parseEnv(text), ...env };
}

/**
 * Validates the environment and returns the broker's configuration. Throws ConfigError whose
 * message is one line: `VARIABLE: what was expected`.
 */
export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env): KeyholeConfig {
  const env = withEnvFile(rawEnv);
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(schema)) {
    const value = env[name] === '' ? undefined : env[name];
    const parsed = (type as z.ZodType).safeParse(value);
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(
        name,
        value === undefined
          ? message
          : `${message} (got ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value)})`,
      );
    }
    out[name] = parsed.data;
  }
  const c = out as Parsed;

  if (c.KEYHOLE_DEV_LOGIN) {
    // Dev login signs in anyone as anyone: it must never sit next to real users or face a network.
    if (c.NODE_ENV === 'production') {
      throw new ConfigError('KEYHOLE_DEV_LOGIN', 'must not be enabled when NODE_ENV=production');
    }
    if (c.KEYHOLE_JWT_ISSUER !== undefined) {
      throw new ConfigError(
        'KEYHOLE_DEV_LOGIN',
        'must not be enabled together with KEYHOLE_JWT_ISSUER: anyone could sign in as your real users; unset one of them',
      );
    }
    if (!isLoopbackHost(c.KEYHOLE_HOST)) {
      throw new ConfigError(
        'KEYHOLE_DEV_LOGIN',
        `needs a loopback KEYHOLE_HOST (127.0.0.1, ::1 or localhost), not "${c.KEYHOLE_HOST}": dev login must not be reachable from the network`,
      );
    }
  }
  const issuers: TrustedIssuer[] = [];
  if (c.KEYHOLE_JWT_ISSUER !== undefined) {
    const audience = need(c.KEYHOLE_JWT_AUDIENCE, 'KEYHOLE_JWT_AUDIENCE', 'when KEYHOLE_JWT_ISSUER is set');
    if ((c.KEYHOLE_JWKS_URL === undefined) === (c.KEYHOLE_JWT_PUBLIC_KEY === undefined)) {
      throw new ConfigError(
        'KEYHOLE_JWKS_URL',
        'set exactly one of KEYHOLE_JWKS_URL or KEYHOLE_JWT_PUBLIC_KEY with KEYHOLE_JWT_ISSUER',
      );
    }
    const base = {
      issuer: c.KEYHOLE_JWT_ISSUER,
      audience,
      ...(c.KEYHOLE_JWT_ALGORITHMS ? { algorithms: c.KEYHOLE_JWT_ALGORITHMS } : {}),
    };
    issuers.push(
      c.KEYHOLE_JWKS_URL ? { ...base, jwksUrl: c.KEYHOLE_JWKS_URL } : { ...base, publicKey: c.KEYHOLE_JWT_PUBLIC_KEY! },
    );
  } else if (!c.KEYHOLE_DEV_LOGIN) {
    throw new ConfigError(
      'KEYHOLE_JWT_ISSUER',
      'is required (the issuer of your users\u2019 JWTs), unless KEYHOLE_DEV_LOGIN=1 for local development',
    );
  }

  let grants: GrantRule[];
  if (c.KEYHOLE_GRANTS !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(c.KEYHOLE_GRANTS);
    } catch {
      throw new ConfigError('KEYHOLE_GRANTS', 'expected a JSON array of {when?, bucket, scopes:[{prefix, access}]}');
    }
    const parsed = grantsSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError('KEYHOLE_GRANTS', `[${issue.path.join('.')}] ${issue.message}`);
    }
    grants = parsed.data as GrantRule[];
  } else {
    const bucket = need(c.KEYHOLE_BUCKET, 'KEYHOLE_BUCKET', '(or KEYHOLE_GRANTS)');
    const bind = c.KEYHOLE_BIND_SOURCE_IP;
    grants = [
      {
        bucket,
        scopes: [{ prefix: c.KEYHOLE_PREFIX_TEMPLATE, access: c.KEYHOLE_ACCESS }],
        session: {
          bindSourceIp:
            bind === undefined || bind === 'off'
              ? false
              : bind === 'on'
                ? true
                : {
                    ipv4PrefixLength: Number(bind.split(',')[0]),
                    ipv6PrefixLength: Number(bind.split(',')[1]),
                  },
          allowPresignedUrls: c.KEYHOLE_ALLOW_PRESIGNED_URLS,
          allowTagging: c.KEYHOLE_ALLOW_TAGGING,
          expireWithToken: c.KEYHOLE_EXPIRE_WITH_TOKEN,
        },
      },
    ];
  }
  try {
    compileGrants(grants, 'grants');
  } catch (err) {
    const variable =
      c.KEYHOLE_GRANTS !== undefined
        ? 'KEYHOLE_GRANTS'
        : /prefix/.test((err as Error).message)
          ? 'KEYHOLE_PREFIX_TEMPLATE'
          : 'KEYHOLE_BUCKET';
    throw new ConfigError(variable, (err as Error).message.replace(/^grants\[0\]\.(scopes\[0\]\.prefix: )?/, ''));
  }
  if (c.KEYHOLE_VENDOR === 'cognito' && c.KEYHOLE_COGNITO_MODE === 'enhanced') {
    const unconfined = unconfinedPrefix(grants);
    if (unconfined) {
      const fromGrants = c.KEYHOLE_GRANTS !== undefined;
      throw new ConfigError(
        fromGrants ? 'KEYHOLE_GRANTS' : 'KEYHOLE_PREFIX_TEMPLATE',
        (fromGrants ? `[${unconfined.rule}.scopes.${unconfined.scope}.prefix] ` : '') +
          `"${unconfined.prefix}" ${unconfinedPrefixReason('KEYHOLE_COGNITO_MODE=basic')}`,
      );
    }
  }

  const region = need(c.AWS_REGION, 'AWS_REGION', 'for STS and for clients');
  if ((c.KEYHOLE_BROKER_ACCESS_KEY_ID === undefined) !== (c.KEYHOLE_BROKER_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError(
      'KEYHOLE_BROKER_SECRET_ACCESS_KEY',
      'set both KEYHOLE_BROKER_ACCESS_KEY_ID and KEYHOLE_BROKER_SECRET_ACCESS_KEY, or neither (to use the AWS default credential chain)',
    );
  }
  let trustProxy: ReturnType<typeof checkTrustProxy>;
  try {
    const raw = c.KEYHOLE_TRUST_PROXY?.trim();
    trustProxy = checkTrustProxy(
      raw === undefined || raw === 'false' ? false : raw === 'true' ? true : /^\d+$/.test(raw) ? Number(raw) : raw,
      'KEYHOLE_TRUST_PROXY',
    );
  } catch (err) {
    throw new ConfigError('KEYHOLE_TRUST_PROXY', (err as Error).message.replace(/^KEYHOLE_TRUST_PROXY /, ''));
  }

  return {
    port: c.PORT,
    host: c.KEYHOLE_HOST,
    logLevel: c.KEYHOLE_LOG_LEVEL,
    vendor: vendorConfig(c, region),
    broker: {
      issuers,
      clockToleranceSeconds: c.KEYHOLE_CLOCK_TOLERANCE_SECONDS,
      maxTokenAgeSeconds: c.KEYHOLE_MAX_TOKEN_AGE_SECONDS,
      maxTokenBytes: c.KEYHOLE_MAX_TOKEN_BYTES,
      grants,
      region,
      ...(c.KEYHOLE_S3_ENDPOINT ? { s3Endpoint: c.KEYHOLE_S3_ENDPOINT } : {}),
      ...(c.KEYHOLE_S3_FORCE_PATH_STYLE !== undefined ? { forcePathStyle: c.KEYHOLE_S3_FORCE_PATH_STYLE } : {}),
      durationSeconds: c.KEYHOLE_DURATION_SECONDS,
      devLogin: c.KEYHOLE_DEV_LOGIN,
      corsOrigins: c.KEYHOLE_CORS_ORIGINS,
      rateLimit: { perSubject: c.KEYHOLE_RATE_LIMIT_SUBJECT, perAddress: c.KEYHOLE_RATE_LIMIT_ADDRESS },
      trustProxy,
      metrics: c.KEYHOLE_METRICS,
    },
    bucketCheck: c.KEYHOLE_ACCEPT_PUBLIC_ACL_RISK
      ? 'accept-risk'
      : {
          region,
          ...(c.KEYHOLE_S3_ENDPOINT ? { endpoint: c.KEYHOLE_S3_ENDPOINT } : {}),
          ...(c.KEYHOLE_S3_FORCE_PATH_STYLE !== undefined
            ? { forcePathStyle: c.KEYHOLE_S3_FORCE_PATH_STYLE }
            : c.KEYHOLE_S3_ENDPOINT
              ? { forcePathStyle: true }
              : {}),
          ...(c.KEYHOLE_BROKER_ACCESS_KEY_ID
            ? {
                credentials: {
                  accessKeyId: c.KEYHOLE_BROKER_ACCESS_KEY_ID,
                  secretAccessKey: c.KEYHOLE_BROKER_SECRET_ACCESS_KEY!,
                },
              }
            : {}),
        },
  };
}
