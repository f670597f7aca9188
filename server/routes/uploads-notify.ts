// `POST /v1/uploads/notify?token=…`: bucket notifications (RGW's HTTP push endpoint) into the same
// completion handler as the confirm route. RGW signs nothing, so the URL token is the credential.
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { DEV_NAMESPACE } from '../auth/dev-login.js';
import { AuthenticationError } from '../errors.js';
import type { CompiledRule } from '../grants.js';
import type { Logger } from '../logger.js';
import type { UploadCompleter } from '../uploads/complete.js';
import { createdObjects, targetFor, type KeyEncoding } from '../uploads/notification.js';

/** What {@link uploadsNotifyHandler} needs. */
export interface UploadsNotifyRouteOptions {
  readonly token: string;
  readonly keyEncoding: KeyEncoding;
  readonly rules: readonly CompiledRule[];
  readonly json: RequestHandler;
  readonly completer: UploadCompleter;
  readonly devLogin: boolean;
  readonly logger: Logger;
}

function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Answers 204 at once (a sync RGW topic holds the upload's response until then) and judges each
 * `ObjectCreated` record in the background; failures are logged (`uploads.notify_failed`).
 */
export function uploadsNotifyHandler(options: UploadsNotifyRouteOptions): RequestHandler {
  return async (req, res) => {
    if (!sameToken(req.query.token, options.token)) {
      throw new AuthenticationError('invalid_token', 'the notification token does not match');
    }
    await new Promise<void>((resolve, reject) =>
      options.json(req, res, (err?: unknown) => (err ? reject(err) : resolve())),
    );
    const objects = createdObjects(req.body, options.keyEncoding);
    res.status(204).end();
    for (const { bucket, key } of objects) {
      const target = targetFor(options.rules, bucket, key, options.devLogin ? DEV_NAMESPACE : '');
      if (!target) {
        options.logger.info({ event: 'uploads.notify_ignored', bucket, key });
        continue;
      }
      options.completer.complete(target).catch((err: unknown) =>
        options.logger.warn({
          event: 'uploads.notify_failed',
          bucket,
          key,
          err: String((err as Error)?.message ?? err),
        }),
      );
    }
  };
}
