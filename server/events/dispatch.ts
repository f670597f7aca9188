// Where upload outcomes go: the app's `onUpload` hook and the webhook. Neither is awaited by the
// confirm that produced the outcome.
import type { UploadEvent } from '../../client/protocol/uploads.js';
import type { Logger } from '../logger.js';
import type { UploadOutcome } from '../uploads/complete.js';
import type { WebhookSender } from './webhook.js';

/**
 * Called once per upload outcome (per object version), after the verdict is decided and without
 * delaying the answer to the client. A throw or a rejected promise is logged (`events.hook_failed`)
 * and not retried.
 */
export type UploadHook = (event: UploadEvent) => void | Promise<void>;

/** The delivery callback of the upload completer: hook first, then the webhook's queue. */
export function dispatchTo(
  hook: UploadHook | undefined,
  webhook: WebhookSender | undefined,
  logger: Logger,
): (outcome: UploadOutcome) => void {
  return (outcome) => {
    if (hook) {
      const failed = (err: unknown) =>
        logger.warn({ event: 'events.hook_failed', id: outcome.id, err: String((err as Error)?.message ?? err) });
      setImmediate(() => {
        try {
          void Promise.resolve(hook(outcome.event)).catch(failed);
        } catch (err) {
          failed(err);
        }
      });
    }
    webhook?.enqueue(outcome);
  };
}
