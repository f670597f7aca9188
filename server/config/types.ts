import type { BrokerOptions } from '../broker.js';
import type { BucketInspectorOptions } from '../bucket-safety.js';
import type { WebAppOptions } from '../http/web-app.js';
import type { CognitoVendorOptions } from '../vendors/cognito.js';
import type { StsVendorOptions } from '../vendors/sts.js';
import type { RedisConfig } from './redis-env.js';
import type { UploadsConfig } from './uploads-env.js';
import type { LogFormat } from './schema.js';

/** Everything the broker needs (`npm run broker`, `npm start`, a Lambda), parsed from the environment. */
export interface KeyholeConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  /** `KEYHOLE_LOG_FORMAT`: `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty`. */
  readonly logFormat: LogFormat;
  /** `NODE_ENV` is `production`: logs are always JSON. */
  readonly production: boolean;
  readonly vendor:
    ({ readonly kind: 'sts' } & StsVendorOptions) | ({ readonly kind: 'cognito' } & CognitoVendorOptions);
  readonly broker: Omit<BrokerOptions, 'vendor' | 'logger' | 'bucketCheck' | 'sharedState' | 'uploads'>;
  /** How `/readyz` checks the buckets' ACL settings: with the broker's own S3 access, or not at all. */
  readonly bucketCheck: BucketInspectorOptions | 'accept-risk';
  /** `KEYHOLE_WEB_DIR` and friends: the web app served next to the API, or undefined. */
  readonly web: WebAppOptions | undefined;
  /** `KEYHOLE_REDIS_*`: cache and rate limits shared through Redis, or undefined (in-process). */
  readonly redis: RedisConfig | undefined;
  /** The broker's S3 access for upload checks, and `KEYHOLE_QUARANTINE_PREFIX`. */
  readonly uploads: UploadsConfig | undefined;
}

/** What {@link parseConfig} answers: the configuration, or every problem found. */
export type ConfigResult =
  | { readonly ok: true; readonly config: KeyholeConfig }
  | { readonly ok: false; readonly problems: readonly import('./problems.js').ConfigProblem[] };
