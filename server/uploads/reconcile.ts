// Bounded reconciliation: objects that no event reported (RGW's sync topic drops an event while the
// broker is down; an S3 event can fail all its Lambda retries) are found by listing the grants'
// prefixes and run through the same completion handler as every other path.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { CompiledRule } from '../grants.js';
import type { Logger } from '../logger.js';
import type { UploadCompleter } from './complete.js';
import { targetFor } from './notification.js';
import type { UploadsSettings } from './options.js';
import { literalHead } from './rules.js';

/** Which objects a reconciliation looks at. */
export interface ReconcileWindow {
  /** Objects modified at or after this time are judged. */
  readonly since: Date;
  /**
   * Objects modified after this time are left to their events (one may be on its way). Default:
   * now minus 60 s.
   */
  readonly until?: Date;
  /** Most objects listed, over every prefix (pages of 1000). Default 10,000. */
  readonly maxObjects?: number;
}

/** What {@link reconcileUploads} needs. */
export interface ReconcileOptions extends ReconcileWindow {
  readonly rules: readonly CompiledRule[];
  readonly settings: Pick<UploadsSettings, 's3'>;
  readonly completer: UploadCompleter;
  /** The dev-login namespace (`dev-`) when the broker runs with dev login; default none. */
  readonly devNamespace?: string;
  readonly logger?: Logger;
}

/** What one reconciliation did. */
export interface ReconcileSummary {
  /** ListObjectsV2 calls made. */
  readonly pages: number;
  readonly listed: number;
  /** Objects in the time window under a writable scope, judged (or answered from memory). */
  readonly judged: number;
  readonly accepted: number;
  readonly rejected: number;
  /** False when `maxObjects` stopped the listing before its end: keys after `lastKey` were not seen. */
  readonly complete: boolean;
  readonly lastKey: string | undefined;
}

/** The (bucket, literal prefix) pairs to list: each writable scope's template up to its first placeholder. */
export function reconcilePrefixes(rules: readonly CompiledRule[]): { bucket: string; prefix: string }[] {
  const out: { bucket: string; prefix: string }[] = [];
  for (const rule of rules) {
    for (const scope of rule.scopes) {
      if (!scope.access.includes('write')) continue;
      const prefix = literalHead(scope.template.source);
      // A prefix inside another one of the same bucket is listed with it.
      if (out.some((p) => p.bucket === rule.bucket && prefix.startsWith(p.prefix))) continue;
      for (let i = out.length - 1; i >= 0; i--) {
        if (out[i]!.bucket === rule.bucket && out[i]!.prefix.startsWith(prefix)) out.splice(i, 1);
      }
      out.push({ bucket: rule.bucket, prefix });
    }
  }
  return out;
}

/**
 * Lists the grants' prefixes (at most `maxObjects` objects), and judges every object modified
 * between `since` and `until`, oldest first, with the completer. An object this process already
 * judged answers from memory and sends no event; one judged by another process is judged again and
 * gets the same verdict (the quota counts only objects stored no later than it) and the same
 * webhook-id, which receivers de-duplicate on. S3 lists in key order, not by time, so the bound cuts
 * by key: `complete: false` says so, with the last key seen.
 */
export async function reconcileUploads(options: ReconcileOptions): Promise<ReconcileSummary> {
  const maxObjects = options.maxObjects ?? 10_000;
  if (!Number.isInteger(maxObjects) || maxObjects < 1) throw new RangeError('maxObjects must be a positive integer');
  const since = options.since.getTime();
  const until = (options.until ?? new Date(Date.now() - 60_000)).getTime();
  const { s3 } = options.settings;
  const found: { bucket: string; key: string; modified: number }[] = [];
  let pages = 0;
  let listed = 0;
  let complete = true;
  let lastKey: string | undefined;
  for (const { bucket, prefix } of reconcilePrefixes(options.rules)) {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          ...(prefix ? { Prefix: prefix } : {}),
          MaxKeys: Math.min(1000, maxObjects - listed),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      pages++;
      for (const o of page.Contents ?? []) {
        listed++;
        lastKey = o.Key;
        const modified = o.LastModified?.getTime() ?? 0;
        if (o.Key && modified >= since && modified <= until) found.push({ bucket, key: o.Key, modified });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && listed < maxObjects);
    if (token) {
      complete = false;
      break;
    }
  }
  found.sort((a, b) => a.modified - b.modified || a.key.localeCompare(b.key));
  let judged = 0;
  let accepted = 0;
  let rejected = 0;
  for (const { bucket, key } of found) {
    const target = targetFor(options.rules, bucket, key, options.devNamespace ?? '');
    if (!target) continue;
    const verdict = await options.completer.complete(target);
    if (!verdict) continue;
    judged++;
    if (verdict.status === 'accepted') accepted++;
    else rejected++;
  }
  const summary = { pages, listed, judged, accepted, rejected, complete, lastKey: complete ? undefined : lastKey };
  options.logger?.info({ event: 'uploads.reconciled', ...summary });
  return summary;
}

/**
 * Reconciles the uploads of a broker made by `createBroker` with `uploads`: the same rules, webhook,
 * `onUpload` hook and memory of outcomes, so what this broker already judged sends no event again.
 * Schedule it (a timer, a cron job) for what notifications missed.
 *
 * @example
 * ```ts
 * setInterval(() => void reconcileBrokerUploads(app, { since: new Date(Date.now() - 75 * 60_000) }), 3_600_000);
 * ```
 */
export function reconcileBrokerUploads(
  app: { readonly locals: Record<string, unknown> },
  window: ReconcileWindow,
): Promise<ReconcileSummary> {
  const reconcile = (app.locals.keyhole as { reconcile?: (w: ReconcileWindow) => Promise<ReconcileSummary> })
    ?.reconcile;
  if (!reconcile) throw new TypeError('app must be a broker made by createBroker with options.uploads');
  if (!(window?.since instanceof Date)) throw new TypeError('since must be a Date');
  return reconcile(window);
}
