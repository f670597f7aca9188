// Runs a scope's upload rules on one object and removes it when it breaks one.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../logger.js';
import {
  DETECTABLE_TYPES,
  prefixUsage,
  removeObject,
  sniffType,
  type ObjectHead,
  type PrefixUsage,
  type Removal,
} from './inspect.js';
import { judge } from './judge.js';
import type { CompiledUploadRules, RejectReason } from './rules.js';

/** What {@link enforceRules} needs besides the object. */
export interface EnforceSettings {
  /** The broker's own S3 identity. */
  readonly s3: S3Client;
  /** Copy rejected objects here before deleting them; undefined: delete only. */
  readonly quarantinePrefix: string | undefined;
  /** Most objects listed to count a subject's usage (see {@link prefixUsage}). */
  readonly quotaMaxObjects: number;
  readonly logger: Logger;
}

/** The outcome of the rules on one object. */
export interface Enforcement {
  readonly reason: RejectReason | undefined;
  /** The detected type when the rules read one and the detector knew it, else the declared one. */
  readonly contentType: string | undefined;
  /** Present when the object was rejected: how it was removed. */
  readonly removal: Removal | undefined;
  /** Present when the quota was counted. */
  readonly usage: PrefixUsage | undefined;
}

/**
 * Judges the object `head` describes against `rules` (size, then type from its first bytes, then the
 * quota of `scopePrefix`), and deletes or quarantines it when it breaks one. A usage count cut short
 * by `quotaMaxObjects` counts as over quota: the broker cannot tell, so it refuses.
 */
export async function enforceRules(
  settings: EnforceSettings,
  target: { readonly bucket: string; readonly key: string; readonly scopePrefix: string },
  rules: CompiledUploadRules | undefined,
  head: ObjectHead,
): Promise<Enforcement> {
  const { s3, logger } = settings;
  const { bucket, key, scopePrefix } = target;
  const tooLarge = rules?.maxBytes !== undefined && head.size > rules.maxBytes;
  const detected = rules?.contentTypes && !tooLarge ? await sniffType(s3, bucket, key, head) : undefined;
  const facts = { size: head.size, declaredType: head.contentType, detectedType: detected, usedBytes: undefined };
  let reason = judge(rules, facts, DETECTABLE_TYPES);
  let usage: PrefixUsage | undefined;
  if (reason === undefined && rules?.quotaBytes !== undefined) {
    usage = await prefixUsage(s3, bucket, scopePrefix, settings.quotaMaxObjects, head.lastModified);
    if (!usage.complete) {
      logger.warn({ event: 'uploads.quota_uncounted', bucket, prefix: scopePrefix, listed: usage.objects });
    }
    reason = judge(rules, { ...facts, usedBytes: usage.complete ? usage.bytes : Infinity }, DETECTABLE_TYPES);
  }
  let removal: Removal | undefined;
  if (reason !== undefined) {
    const removed = await removeObject(s3, bucket, key, head, settings.quarantinePrefix);
    if ('copyError' in removed) {
      logger.warn({
        event: 'uploads.quarantine_failed',
        bucket,
        key,
        err: String((removed.copyError as Error)?.message ?? removed.copyError),
      });
    }
    removal = removed.action === 'quarantined' ? { action: 'quarantined', key: removed.key } : { action: 'deleted' };
  }
  return { reason, contentType: detected ?? head.contentType, removal, usage };
}
