// The broker's upload options: how it reaches S3 to check uploads, and what it does with a rejected one.
import type { S3Client } from '@aws-sdk/client-s3';
import type { WebhookOptions } from '../events/webhook.js';
import type { CompiledRule } from '../grants.js';
import { checkQuarantinePrefix } from './rules.js';

/**
 * How the broker checks uploads (`POST /v1/uploads/complete`).
 *
 * @example
 * ```ts
 * uploads: { s3: new S3Client({ region: 'eu-west-1' }), quarantinePrefix: 'quarantine/' }
 * ```
 */
export interface UploadsOptions {
  /**
   * An S3 client with the broker's own identity (not a vended credential). It needs HeadObject,
   * GetObject, ListBucket and DeleteObject on the grants' buckets, and PutObject (CopyObject) under
   * `quarantinePrefix` when one is set.
   */
  readonly s3: S3Client;
  /**
   * Move rejected objects under this folder (`quarantine/` + the object's key) instead of only
   * deleting them. It must lie outside every grant's prefix, so users cannot read it. Default: delete.
   */
  readonly quarantinePrefix?: string;
  /**
   * Most objects listed to add up a subject's usage for `quotaBytes`, in pages of 1000. A prefix
   * holding more counts as over quota. Default 10000 (at most 10 ListObjectsV2 calls per check).
   */
  readonly quotaMaxObjects?: number;
  /** Outcomes remembered to answer a repeated confirm of the same object version. Default 10000. */
  readonly rememberOutcomes?: number;
  /** POST each outcome to this webhook, signed per Standard Webhooks. Default: none. */
  readonly webhook?: WebhookOptions;
  /**
   * Accept bucket notifications at `POST /v1/uploads/notify?token=<token>` (ObjectCreated only; never
   * subscribe removals on RGW 16, multi-object delete then crashes radosgw). `token`: at least 32
   * characters, the only credential (RGW signs nothing). `keyEncoding`: `raw` (RGW, default) or `url`
   * (AWS S3). Default: no such route.
   */
  readonly notifications?: { readonly token: string; readonly keyEncoding?: 'raw' | 'url' };
}

/** {@link UploadsOptions} after validation. */
export interface UploadsSettings {
  readonly s3: S3Client;
  readonly quarantinePrefix: string | undefined;
  readonly quotaMaxObjects: number;
  readonly rememberOutcomes: number;
  /** Checked when the sender is built (`WebhookSender`). */
  readonly webhook: WebhookOptions | undefined;
  readonly notifications: { readonly token: string; readonly keyEncoding: 'raw' | 'url' } | undefined;
}

function checkNotifications(value: UploadsOptions['notifications']): UploadsSettings['notifications'] {
  if (value === undefined) return undefined;
  if (typeof value?.token !== 'string' || !/^[A-Za-z0-9_-]{32,256}$/.test(value.token)) {
    throw new TypeError('options.uploads.notifications.token must be 32 to 256 letters, digits, "_" or "-"');
  }
  const keyEncoding = value.keyEncoding ?? 'raw';
  if (keyEncoding !== 'raw' && keyEncoding !== 'url') {
    throw new TypeError('options.uploads.notifications.keyEncoding must be "raw" or "url"');
  }
  return { token: value.token, keyEncoding };
}

function intOption(value: unknown, fallback: number, name: string, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) {
    throw new RangeError(`options.uploads.${name} must be an integer from 1 to ${max}`);
  }
  return v as number;
}

/**
 * Validates `options.uploads` against the compiled grants, once, at startup. Undefined when it is
 * not set and no scope has upload rules; a rule without `options.uploads` is refused (nothing could
 * enforce it). Throws TypeError or RangeError naming the option.
 */
export function checkUploadsOptions(
  value: UploadsOptions | undefined,
  rules: readonly CompiledRule[],
  onUpload?: unknown,
): UploadsSettings | undefined {
  if (onUpload !== undefined && typeof onUpload !== 'function')
    throw new TypeError('options.onUpload must be a function');
  if (onUpload !== undefined && value === undefined) {
    throw new TypeError('options.onUpload needs options.uploads: outcomes come from POST /v1/uploads/complete');
  }
  if (value === undefined) {
    const at = rules.flatMap((r, i) => r.scopes.map((s, j) => (s.uploads ? `grants[${i}].scopes[${j}]` : '')));
    const first = at.find(Boolean);
    if (first) {
      throw new TypeError(
        `options.uploads is required: options.${first} has upload rules, which the broker checks with its own S3 access`,
      );
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) throw new TypeError('options.uploads must be an object');
  if (!value.s3 || typeof (value.s3 as { send?: unknown }).send !== 'function') {
    throw new TypeError("options.uploads.s3 must be an S3Client with the broker's own credentials");
  }
  const templates = rules.flatMap((r) => r.scopes.map((s) => s.template.source));
  return {
    s3: value.s3,
    quarantinePrefix:
      value.quarantinePrefix === undefined
        ? undefined
        : checkQuarantinePrefix(value.quarantinePrefix, templates, 'options.uploads.quarantinePrefix'),
    quotaMaxObjects: intOption(value.quotaMaxObjects, 10_000, 'quotaMaxObjects', 1_000_000),
    rememberOutcomes: intOption(value.rememberOutcomes, 10_000, 'rememberOutcomes', 1_000_000),
    webhook: value.webhook,
    notifications: checkNotifications(value.notifications),
  };
}
