// What the AWS stack deploys, from one env file (KEYHOLE_AWS_ENV_FILE, else infra/aws/example.env)
// under the real environment, which wins. Two kinds of variables:
//   - the broker's own (KEYHOLE_JWT_ISSUER, KEYHOLE_CORS_ORIGINS, ...): handed to the Lambda as they
//     are, after the Lambda's own loader (server/lambda/init.ts -> server/config.ts) accepted them;
//   - the stack's (KEYHOLE_AWS_*): bucket versioning, log retention, throttling, memory, Cognito.
// Values the stack owns (bucket, role, region) or that cannot work on Lambda are refused by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { VARIABLES } from '../../server/config.js';
import { lambdaConfig } from '../../server/lambda/init.js';
import { REPO_ROOT } from './bundle.js';
import type { UploadChecks } from './policies.js';
import { literalHead } from '../../server/uploads/rules.js';

export const EXAMPLE_ENV_FILE = join(REPO_ROOT, 'infra/aws/example.env');

/** CloudWatch Logs accepts only these retention periods (days). */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export type CognitoStackMode = 'basic' | 'enhanced';

export interface StackSettings {
  /** Where the values came from: the env file's path. */
  readonly source: string;
  /** True when no KEYHOLE_AWS_ENV_FILE was given and the example file was used. */
  readonly example: boolean;
  readonly stackName: string;
  /** Broker variables for the Lambda's environment (the stack adds bucket, role and vendor). */
  readonly brokerEnv: Readonly<Record<string, string>>;
  /** `KEYHOLE_CORS_ORIGINS`: the bucket's and the HTTP API's CORS origins. */
  readonly corsOrigins: readonly string[];
  /** `KEYHOLE_DURATION_SECONDS`: credential lifetime; the role's MaxSessionDuration is at least this. */
  readonly durationSeconds: number;
  /** The grant's prefix template and access, as the Lambda's loader read them (for the Cognito role). */
  readonly prefixTemplate: string;
  readonly access: readonly string[];
  readonly versioned: boolean;
  readonly retainData: boolean;
  readonly logRetentionDays: number;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly memoryMb: number;
  readonly reservedConcurrency: number | undefined;
  /** `KEYHOLE_AWS_COGNITO`: also create an identity pool and use the `cognito` vendor in this mode. */
  readonly cognito: CognitoStackMode | undefined;
  readonly cognitoDeveloperProvider: string;
  /** `KEYHOLE_AWS_VPC_ID` / `KEYHOLE_AWS_SUBNET_IDS`: run the function in these subnets of this VPC. */
  readonly vpc: { readonly vpcId: string; readonly subnetIds: readonly string[] } | undefined;
  /** `KEYHOLE_AWS_SHARED_STATE=elasticache`: create a Valkey (ElastiCache Serverless) cache in the VPC and share through it. */
  readonly sharedState: 'elasticache' | undefined;
  /**
   * Upload checks, when `KEYHOLE_UPLOAD_*` rules or the webhook (`KEYHOLE_EVENTS_WEBHOOK_*`) are set:
   * the stack then routes POST /v1/uploads/complete, grants both functions what the rules need, and
   * adds the upload-events function S3 notifies. Undefined: none of it.
   */
  readonly uploads: (Omit<UploadChecks, 'versioned'> & { readonly webhook: boolean }) | undefined;
}

/** Broker variables the stack sets itself. */
const STACK_OWNED: Readonly<Record<string, string>> = {
  KEYHOLE_BUCKET: 'the stack creates the bucket',
  KEYHOLE_ROLE_ARN: 'the stack creates the uploader role',
  AWS_REGION: 'Lambda sets it to the stack\u2019s region',
  KEYHOLE_VENDOR: 'set KEYHOLE_AWS_COGNITO=basic or enhanced for the cognito vendor',
  KEYHOLE_COGNITO_IDENTITY_POOL_ID: 'the stack creates the identity pool (KEYHOLE_AWS_COGNITO)',
  NODE_ENV: 'the stack sets production',
};

/** Broker variables that have no meaning, or an unsafe one, in the deployed Lambda. */
const REFUSED: Readonly<Record<string, string>> = {
  KEYHOLE_STS_ENDPOINT: 'the Lambda uses the AWS endpoints',
  KEYHOLE_S3_ENDPOINT: 'the Lambda uses the AWS endpoints',
  KEYHOLE_S3_FORCE_PATH_STYLE: 'the Lambda uses the AWS endpoints',
  KEYHOLE_BROKER_ACCESS_KEY_ID:
    'the function\u2019s role is the broker\u2019s identity: never put long-term keys in a Lambda',
  KEYHOLE_BROKER_SECRET_ACCESS_KEY:
    'the function\u2019s role is the broker\u2019s identity: never put long-term keys in a Lambda',
  KEYHOLE_GRANTS: 'the stack grants its own bucket: use KEYHOLE_PREFIX_TEMPLATE and KEYHOLE_ACCESS',
  KEYHOLE_ACCEPT_PUBLIC_ACL_RISK: 'the stack\u2019s bucket disables ACLs, so /readyz needs no exception',
  PORT: 'a Lambda listens on nothing',
  KEYHOLE_HOST: 'a Lambda listens on nothing',
  KEYHOLE_ENV_FILE: 'the stack reads KEYHOLE_AWS_ENV_FILE and deploys its values',
  KEYHOLE_NOTIFY_TOKEN:
    'S3 invokes the upload-events function directly (set KEYHOLE_UPLOAD_* or the webhook); the notify route is for RGW',
};

const STACK_VARIABLES = [
  'KEYHOLE_AWS_ENV_FILE',
  'KEYHOLE_AWS_STACK_NAME',
  'KEYHOLE_AWS_VERSIONING',
  'KEYHOLE_AWS_RETAIN_DATA',
  'KEYHOLE_AWS_LOG_RETENTION_DAYS',
  'KEYHOLE_AWS_THROTTLE',
  'KEYHOLE_AWS_MEMORY_MB',
  'KEYHOLE_AWS_RESERVED_CONCURRENCY',
  'KEYHOLE_AWS_COGNITO',
  'KEYHOLE_AWS_VPC_ID',
  'KEYHOLE_AWS_SUBNET_IDS',
  'KEYHOLE_AWS_SHARED_STATE',
  // Where `npm run aws:synth` writes the cloud assembly (default .local/cdk.out).
  'KEYHOLE_AWS_OUTDIR',
] as const;

/** A deploy setting that is wrong: names the variable, like the broker's ConfigError. */
export class StackSettingsError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'StackSettingsError';
  }
}

function flag(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new StackSettingsError(name, `expected 0 or 1 (got ${JSON.stringify(value)})`);
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new StackSettingsError(name, `expected an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

/** The values of `KEYHOLE_AWS_ENV_FILE` (or the example file) under `env`. */
export function settingsSource(env: NodeJS.ProcessEnv): { file: string; example: boolean; values: NodeJS.ProcessEnv } {
  const given = env.KEYHOLE_AWS_ENV_FILE;
  const file = given && given !== '' ? given : EXAMPLE_ENV_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StackSettingsError(
      'KEYHOLE_AWS_ENV_FILE',
      `cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'}); copy infra/aws/example.env and edit it`,
    );
  }
  return { file, example: file === EXAMPLE_ENV_FILE, values: { ...parseEnv(text), ...env } };
}

/**
 * Reads and checks the deploy settings. The broker variables are checked by the Lambda's own loader
 * (with placeholders for what the stack creates), so a value the Lambda would refuse fails here.
 */
export function readSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const { file, example, values } = settingsSource(env);
  // The upload variables the loader reads outside VARIABLES (server/config/uploads-env.ts).
  const known = new Set([
    ...Object.keys(VARIABLES),
    'KEYHOLE_EVENTS_WEBHOOK_URL',
    'KEYHOLE_EVENTS_WEBHOOK_SECRET',
    'KEYHOLE_QUARANTINE_PREFIX',
  ]);
  const brokerEnv: Record<string, string> = {};
  // Only what the file names, plus KEYHOLE_* variables of the environment: never the rest of a shell.
  const fileNames = new Set(Object.keys(parseEnv(readFileSync(file, 'utf8'))));
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === '') continue;
    if (!fileNames.has(name) && !name.startsWith('KEYHOLE_')) continue;
    if ((STACK_VARIABLES as readonly string[]).includes(name)) continue;
    if (name.startsWith('KEYHOLE_AWS_')) {
      throw new StackSettingsError(name, `unknown stack setting; expected one of ${STACK_VARIABLES.join(', ')}`);
    }
    if (name.startsWith('KEYHOLE_WEB_')) {
      throw new StackSettingsError(
        name,
        'the Lambda serves the API only: host client/web/dist on S3 or a CDN and list its origin in KEYHOLE_CORS_ORIGINS',
      );
    }
    if (Object.hasOwn(STACK_OWNED, name)) throw new StackSettingsError(name, `must not be set: ${STACK_OWNED[name]}`);
    if (Object.hasOwn(REFUSED, name)) throw new StackSettingsError(name, `must not be set: ${REFUSED[name]}`);
    if (!known.has(name)) {
      // KEYHOLE_DEV_LOGIN and KEYHOLE_TRUST_PROXY are known; the Lambda's loader refuses them below.
      if (name.startsWith('KEYHOLE_')) throw new StackSettingsError(name, 'is not a Keyhole variable');
      continue;
    }
    brokerEnv[name] = value;
  }

  const cognitoRaw = values.KEYHOLE_AWS_COGNITO;
  const cognito =
    cognitoRaw === undefined || cognitoRaw === '' || cognitoRaw === 'off'
      ? undefined
      : cognitoRaw === 'basic' || cognitoRaw === 'enhanced'
        ? cognitoRaw
        : (() => {
            throw new StackSettingsError(
              'KEYHOLE_AWS_COGNITO',
              `expected off, basic or enhanced (got ${JSON.stringify(cognitoRaw)})`,
            );
          })();
  const cognitoDeveloperProvider = brokerEnv.KEYHOLE_COGNITO_DEVELOPER_PROVIDER ?? 'keyhole';
  if (cognito) {
    brokerEnv.KEYHOLE_COGNITO_MODE ??= cognito;
    if (brokerEnv.KEYHOLE_COGNITO_MODE !== cognito) {
      throw new StackSettingsError('KEYHOLE_COGNITO_MODE', `must match KEYHOLE_AWS_COGNITO=${cognito}`);
    }
    brokerEnv.KEYHOLE_COGNITO_DEVELOPER_PROVIDER = cognitoDeveloperProvider;
  } else {
    for (const name of ['KEYHOLE_COGNITO_MODE', 'KEYHOLE_COGNITO_DEVELOPER_PROVIDER']) {
      if (brokerEnv[name] !== undefined) {
        throw new StackSettingsError(name, 'is only used with KEYHOLE_AWS_COGNITO=basic or enhanced');
      }
    }
  }

  const vpc = readVpc(values);
  const sharedRaw = values.KEYHOLE_AWS_SHARED_STATE;
  let sharedState: 'elasticache' | undefined;
  if (sharedRaw === 'elasticache') sharedState = 'elasticache';
  else if (sharedRaw !== undefined && sharedRaw !== '' && sharedRaw !== 'off') {
    throw new StackSettingsError(
      'KEYHOLE_AWS_SHARED_STATE',
      `expected off or elasticache (got ${JSON.stringify(sharedRaw)})`,
    );
  }
  if (sharedState) {
    if (!vpc) {
      throw new StackSettingsError(
        'KEYHOLE_AWS_SHARED_STATE',
        'elasticache needs KEYHOLE_AWS_VPC_ID and KEYHOLE_AWS_SUBNET_IDS: the cache is reachable inside a VPC only, so the function runs there too',
      );
    }
    if (brokerEnv.KEYHOLE_REDIS_URL !== undefined) {
      throw new StackSettingsError(
        'KEYHOLE_REDIS_URL',
        'must not be set with KEYHOLE_AWS_SHARED_STATE=elasticache: the stack creates the cache and sets it',
      );
    }
    if (brokerEnv.KEYHOLE_REDIS_KEYS === undefined) {
      throw new StackSettingsError(
        'KEYHOLE_REDIS_KEYS',
        'is required with KEYHOLE_AWS_SHARED_STATE=elasticache: credentials are sealed in the cache with it (`openssl rand -base64 32`)',
      );
    }
  }

  // The Lambda's loader, on exactly what the Lambda will see, with placeholders for what the stack creates.
  const config = lambdaConfig({
    ...brokerEnv,
    ...(sharedState ? { KEYHOLE_REDIS_URL: 'rediss://keyhole-placeholder.cache.amazonaws.com:6379' } : {}),
    KEYHOLE_BUCKET: 'keyhole-placeholder-bucket',
    KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-placeholder',
    AWS_REGION: 'us-east-1',
    NODE_ENV: 'production',
    ...(cognito
      ? {
          KEYHOLE_VENDOR: 'cognito',
          KEYHOLE_COGNITO_IDENTITY_POOL_ID: 'us-east-1:00000000-0000-4000-8000-000000000000',
        }
      : {}),
  });
  const scope = config.broker.grants[0]!.scopes[0]!;
  const throttleRaw = values.KEYHOLE_AWS_THROTTLE ?? '50/100';
  const throttle = /^(\d+)\/(\d+)$/.exec(throttleRaw);
  if (!throttle || Number(throttle[1]) < 1 || Number(throttle[2]) < 1) {
    throw new StackSettingsError(
      'KEYHOLE_AWS_THROTTLE',
      `expected "RATE/BURST" requests per second such as "50/100" (got ${JSON.stringify(throttleRaw)})`,
    );
  }
  const retention = integer('KEYHOLE_AWS_LOG_RETENTION_DAYS', values.KEYHOLE_AWS_LOG_RETENTION_DAYS, 30, 1, 3653);
  if (!RETENTION_DAYS.includes(retention)) {
    throw new StackSettingsError(
      'KEYHOLE_AWS_LOG_RETENTION_DAYS',
      `CloudWatch Logs accepts ${RETENTION_DAYS.join(', ')} (got ${retention})`,
    );
  }
  const stackName = values.KEYHOLE_AWS_STACK_NAME || 'Keyhole';
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new StackSettingsError('KEYHOLE_AWS_STACK_NAME', 'expected a CloudFormation stack name (letters, digits, -)');
  }
  const reserved = values.KEYHOLE_AWS_RESERVED_CONCURRENCY;
  const rules = config.broker.grants[0]!.scopes[0]!.uploads;
  const webhook = config.uploads?.webhook !== undefined;
  const uploads =
    rules || webhook
      ? {
          prefix: literalHead(scope.prefix),
          maxBytes: rules?.maxBytes !== undefined,
          contentTypes: rules?.contentTypes !== undefined,
          quotaBytes: rules?.quotaBytes !== undefined,
          quarantinePrefix: config.uploads?.quarantinePrefix,
          webhook,
        }
      : undefined;
  return {
    source: file,
    example,
    stackName,
    brokerEnv,
    corsOrigins: config.broker.corsOrigins ?? [],
    durationSeconds: config.broker.durationSeconds ?? 900,
    prefixTemplate: scope.prefix,
    access: scope.access,
    versioned: flag('KEYHOLE_AWS_VERSIONING', values.KEYHOLE_AWS_VERSIONING, false),
    retainData: flag('KEYHOLE_AWS_RETAIN_DATA', values.KEYHOLE_AWS_RETAIN_DATA, true),
    logRetentionDays: retention,
    throttle: { rateLimit: Number(throttle[1]), burstLimit: Number(throttle[2]) },
    memoryMb: integer('KEYHOLE_AWS_MEMORY_MB', values.KEYHOLE_AWS_MEMORY_MB, 512, 128, 10240),
    reservedConcurrency:
      reserved === undefined || reserved === ''
        ? undefined
        : integer('KEYHOLE_AWS_RESERVED_CONCURRENCY', reserved, 0, 1, 10000),
    cognito,
    cognitoDeveloperProvider,
    vpc,
    sharedState,
    uploads,
  };
}

/**
 * `KEYHOLE_AWS_VPC_ID` and `KEYHOLE_AWS_SUBNET_IDS`, both or neither. IDs only, no lookup, so the
 * stack still synthesizes with no AWS access: the subnets must be private ones with a route out
 * (NAT, or VPC endpoints for STS and S3 plus a way to the IdP's JWKS URL).
 */
function readVpc(values: NodeJS.ProcessEnv): StackSettings['vpc'] {
  const vpcId = values.KEYHOLE_AWS_VPC_ID ?? '';
  const subnetsRaw = values.KEYHOLE_AWS_SUBNET_IDS ?? '';
  if (vpcId === '' && subnetsRaw === '') return undefined;
  if (vpcId === '') throw new StackSettingsError('KEYHOLE_AWS_VPC_ID', 'is required with KEYHOLE_AWS_SUBNET_IDS');
  if (!/^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(vpcId)) {
    throw new StackSettingsError(
      'KEYHOLE_AWS_VPC_ID',
      `expected a VPC ID such as vpc-0abc12345def67890 (got ${JSON.stringify(vpcId)})`,
    );
  }
  if (subnetsRaw === '') {
    throw new StackSettingsError(
      'KEYHOLE_AWS_SUBNET_IDS',
      'is required with KEYHOLE_AWS_VPC_ID: two or more private subnet IDs in different Availability Zones, comma-separated',
    );
  }
  const subnetIds = subnetsRaw.split(',').map((x) => x.trim());
  const bad = subnetIds.filter((x) => !/^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(x));
  if (bad.length > 0) {
    throw new StackSettingsError(
      'KEYHOLE_AWS_SUBNET_IDS',
      `expected subnet IDs such as subnet-0abc12345def67890 (got ${bad.map((x) => JSON.stringify(x)).join(', ')})`,
    );
  }
  if (new Set(subnetIds).size !== subnetIds.length) {
    throw new StackSettingsError('KEYHOLE_AWS_SUBNET_IDS', 'lists a subnet twice');
  }
  if (subnetIds.length < 2) {
    throw new StackSettingsError(
      'KEYHOLE_AWS_SUBNET_IDS',
      'needs two or more subnets in different Availability Zones (Lambda and ElastiCache both want more than one)',
    );
  }
  return { vpcId, subnetIds };
}
