// The AWS asynchronous path: S3 event notifications (ObjectCreated, the grant prefix) invoke this
// handler, which runs each record through the same completion handler as `POST /v1/uploads/complete`
// and RGW's notify route (server/uploads/*): HEAD, the scope's rules, delete or quarantine, one event.
// S3 invokes it asynchronously, so an invocation that throws is retried by Lambda (twice, with backoff).
import { compileGrants } from '../grants.js';
import { dispatchTo } from '../events/dispatch.js';
import { WebhookSender, type WebhookOptions } from '../events/webhook.js';
import type { KeyholeConfig } from '../config.js';
import { uploadsOptionsFrom } from '../config/uploads-env.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { UploadCompleter } from '../uploads/complete.js';
import { createdObjects, targetFor } from '../uploads/notification.js';
import { checkUploadsOptions } from '../uploads/options.js';
import { reconcileUploads, type ReconcileSummary } from '../uploads/reconcile.js';
import { lambdaConfig } from './init.js';

/** An S3 event notification as Lambda receives it (only the fields read here). */
export interface S3Event {
  readonly Records: readonly {
    readonly eventName?: string;
    readonly s3?: { readonly bucket?: { readonly name?: string }; readonly object?: { readonly key?: string } };
  }[];
}

/** An EventBridge Scheduler / scheduled-rule invocation: reconcile the last `sinceMinutes`. */
export interface ReconcileEvent {
  readonly keyhole: 'reconcile';
  /** Look back this far (default 75: an hourly schedule with overlap). */
  readonly sinceMinutes?: number;
  /** Leave objects younger than this to their events (default 60). */
  readonly settleSeconds?: number;
}

/** What one invocation did. */
export interface UploadEventsResult {
  readonly judged: number;
  readonly ignored: number;
  readonly reconciled?: ReconcileSummary;
}

/**
 * Webhook timings that fit in one invocation (the function's timeout is 60 s): up to 4 attempts,
 * 0.5 s doubling, 5 s each. The queue lives for one invocation: an event still undelivered when it
 * ends is logged (`events.failed`), and its webhook-id stays the same if a retry re-judges the object.
 */
export const LAMBDA_WEBHOOK_TIMINGS = {
  maxAttempts: 4,
  initialDelayMs: 500,
  maxDelayMs: 4000,
  timeoutMs: 5000,
} as const satisfies Partial<WebhookOptions>;

/** The upload-events function of one container: built once, reused by every invocation. */
export interface UploadEventsFunction {
  readonly config: KeyholeConfig;
  readonly handler: (event: S3Event | ReconcileEvent) => Promise<UploadEventsResult>;
}

/**
 * Builds the handler from the same environment as the broker function (one loader, one set of
 * variables). Throws ConfigError when the environment gives the broker no S3 access for upload checks.
 */
export function uploadEventsFunction(
  rawEnv: NodeJS.ProcessEnv = process.env,
  options: { readonly logDestination?: NodeJS.WritableStream; readonly logger?: Logger } = {},
): UploadEventsFunction {
  const config = lambdaConfig(rawEnv);
  if (!config.uploads) {
    throw new ConfigError(
      'AWS_REGION',
      'the upload-events function needs the broker\u2019s S3 access for upload checks',
    );
  }
  const logger = options.logger ?? createLogger(config.logLevel, options.logDestination);
  const rules = compileGrants(config.broker.grants);
  const uploadsOptions = uploadsOptionsFrom(config.uploads);
  const settings = checkUploadsOptions(uploadsOptions, rules)!;
  const webhook =
    settings.webhook && new WebhookSender({ ...LAMBDA_WEBHOOK_TIMINGS, ...settings.webhook }, logger, 'webhook');
  const completer = new UploadCompleter(settings, logger, dispatchTo(undefined, webhook, logger));

  const handler = async (event: S3Event | ReconcileEvent): Promise<UploadEventsResult> => {
    if ((event as ReconcileEvent)?.keyhole === 'reconcile') {
      const { sinceMinutes = 75, settleSeconds = 60 } = event as ReconcileEvent;
      const reconciled = await reconcileUploads({
        rules,
        settings,
        completer,
        since: new Date(Date.now() - sinceMinutes * 60_000),
        until: new Date(Date.now() - settleSeconds * 1000),
        logger,
      });
      await webhook?.idle();
      return { judged: reconciled.judged, ignored: 0, reconciled };
    }
    // AWS writes keys URL-encoded in event records, with '+' for a space.
    const objects = createdObjects(event, 'url');
    let judged = 0;
    let ignored = 0;
    const failures: unknown[] = [];
    for (const { bucket, key } of objects) {
      const target = targetFor(rules, bucket, key, '');
      if (!target) {
        ignored++;
        logger.info({ event: 'uploads.notify_ignored', bucket, key });
        continue;
      }
      try {
        await completer.complete(target);
        judged++;
      } catch (err) {
        failures.push(err);
        logger.warn({ event: 'uploads.notify_failed', bucket, key, err: String((err as Error)?.message ?? err) });
      }
    }
    await webhook?.idle();
    // Lambda retries a failed asynchronous invocation; objects already judged answer from memory.
    if (failures.length > 0) throw new Error(`${failures.length} of ${objects.length} uploads could not be checked`);
    return { judged, ignored };
  };
  return { config, handler };
}

/** Used by the bundle's index to know which function it runs as (Lambda sets `_HANDLER`, e.g. `index.uploadEvents`). */
export function runsAsUploadEvents(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env._HANDLER ?? '').endsWith('.uploadEvents');
}
