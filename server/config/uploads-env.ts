// `POST /v1/uploads/complete` from the environment: the broker's own S3 access (the same keys and
// endpoint as the bucket check) and what happens to a rejected upload (`KEYHOLE_QUARANTINE_PREFIX`).
import { S3Client } from '@aws-sdk/client-s3';
import type { GrantRule } from '../grants.js';
import { webhookSecretProblem, webhookUrlProblem, type WebhookOptions } from '../events/webhook.js';
import { checkQuarantinePrefix } from '../uploads/rules.js';
import type { UploadsOptions } from '../uploads/options.js';
import type { Problems } from './problems.js';
import type { Variables } from './schema.js';

/** The upload checks' settings, read from the environment. */
export interface UploadsConfig {
  readonly region: string;
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** The broker's own keys; default: the SDK's default provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly quarantinePrefix?: string;
  /** `KEYHOLE_EVENTS_WEBHOOK_URL` and `KEYHOLE_EVENTS_WEBHOOK_SECRET`. */
  readonly webhook?: WebhookOptions;
  /**
   * `KEYHOLE_NOTIFY_TOKEN`: serve `POST /v1/uploads/notify?token=<it>` for RGW's bucket notifications
   * (raw keys). `npm run local:up` writes it to `.local/keyhole.env` with the topic that uses it.
   */
  readonly notifyToken?: string;
}

const WEBHOOK_URL = 'KEYHOLE_EVENTS_WEBHOOK_URL';
const WEBHOOK_SECRET = 'KEYHOLE_EVENTS_WEBHOOK_SECRET';

/** The webhook's settings, or undefined when unset or wrong (problems recorded; the secret never echoed). */
function webhookFrom(env: NodeJS.ProcessEnv, problems: Problems): WebhookOptions | undefined | false {
  const url = env[WEBHOOK_URL] || undefined;
  const secret = env[WEBHOOK_SECRET] || undefined;
  if (url === undefined && secret === undefined) return undefined;
  const before = problems.list.length;
  if (url === undefined) problems.add(WEBHOOK_URL, `is required with ${WEBHOOK_SECRET}`);
  if (secret === undefined) problems.add(WEBHOOK_SECRET, `is required with ${WEBHOOK_URL}`);
  const urlProblem = url === undefined ? undefined : webhookUrlProblem(url);
  if (urlProblem) problems.add(WEBHOOK_URL, `${urlProblem} (got ${JSON.stringify(url)})`);
  const secretProblem = secret === undefined ? undefined : webhookSecretProblem(secret);
  if (secretProblem) problems.add(WEBHOOK_SECRET, secretProblem);
  return problems.list.length > before ? false : { url: url!, secret: secret! };
}

const QUARANTINE = 'KEYHOLE_QUARANTINE_PREFIX';

/** The upload settings, or undefined (with problems recorded, or when a part they need is missing). */
export function uploadsFrom(
  env: NodeJS.ProcessEnv,
  c: Variables,
  region: string | undefined,
  keys: { readonly credentials?: { accessKeyId: string; secretAccessKey: string } } | undefined,
  grants: readonly GrantRule[] | undefined,
  problems: Problems,
): UploadsConfig | undefined {
  const webhook = webhookFrom(env, problems);
  const raw = env[QUARANTINE] === '' ? undefined : env[QUARANTINE];
  let quarantinePrefix: string | undefined;
  if (raw !== undefined && grants) {
    try {
      quarantinePrefix = checkQuarantinePrefix(
        raw,
        grants.flatMap((g) => g.scopes.map((s) => s.prefix)),
        QUARANTINE,
      );
    } catch (err) {
      problems.add(QUARANTINE, (err as Error).message.slice(QUARANTINE.length + 1));
      return undefined;
    }
  }
  if (webhook === false) return undefined;
  if (
    region === undefined ||
    keys === undefined ||
    problems.anyUnreadable(['KEYHOLE_S3_ENDPOINT', 'KEYHOLE_NOTIFY_TOKEN'])
  )
    return undefined;
  const forcePathStyle = c.KEYHOLE_S3_FORCE_PATH_STYLE ?? (c.KEYHOLE_S3_ENDPOINT ? true : undefined);
  return {
    region,
    ...(c.KEYHOLE_S3_ENDPOINT ? { endpoint: c.KEYHOLE_S3_ENDPOINT } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
    ...keys,
    ...(quarantinePrefix !== undefined ? { quarantinePrefix } : {}),
    ...(webhook ? { webhook } : {}),
    ...(c.KEYHOLE_NOTIFY_TOKEN ? { notifyToken: c.KEYHOLE_NOTIFY_TOKEN } : {}),
  };
}

/** The broker's `uploads` option for these settings: an S3 client with the broker's own identity. */
export function uploadsOptionsFrom(config: UploadsConfig): UploadsOptions {
  const { quarantinePrefix, webhook, notifyToken, ...s3 } = config;
  return {
    s3: new S3Client({
      ...s3,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    ...(quarantinePrefix !== undefined ? { quarantinePrefix } : {}),
    ...(webhook ? { webhook } : {}),
    ...(notifyToken !== undefined ? { notifications: { token: notifyToken, keyEncoding: 'raw' as const } } : {}),
  };
}
