// `keyhole/lambda`: the broker as an AWS Lambda behind an API Gateway HTTP API (payload format
// 2.0), and the upload-events function S3 event notifications invoke. Configured from the same
// environment variables as `npm run broker`. What a container runs is built once, when this module
// is loaded, so its JWKS cache, STS client and credential cache serve every request it handles.
// One bundle serves both functions: Lambda names the handler in `_HANDLER` (`index.handler` or
// `index.uploadEvents`), and only that one is built.
import { KeyholeError } from '../errors.js';
import type { HttpApiEvent, HttpApiResult } from './adapter.js';
import { lambdaBroker } from './init.js';
import {
  runsAsUploadEvents,
  uploadEventsFunction,
  type ReconcileEvent,
  type S3Event,
  type UploadEventsResult,
} from './upload-events.js';

export type { HttpApiEvent, HttpApiResult } from './adapter.js';
export type { ReconcileEvent, S3Event, UploadEventsResult } from './upload-events.js';

function init<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    // Named variables, as `npm run broker` prints them; the init error then fails the container.
    const message = err instanceof KeyholeError || err instanceof TypeError ? err.message : String(err);
    process.stderr.write(`keyhole: invalid configuration: ${message}\n`);
    throw err;
  }
}

const events = runsAsUploadEvents() ? init(() => uploadEventsFunction(process.env)) : undefined;
const broker = events ? undefined : init(() => lambdaBroker(process.env));

/** The Lambda handler: `index.handler` in the bundle `infra/aws` deploys. */
export const handler = (event: HttpApiEvent): Promise<HttpApiResult> => {
  if (!broker) throw new Error('this function runs index.uploadEvents (see _HANDLER)');
  return broker.handler(event);
};

/** S3 event notifications (and the scheduled `{ "keyhole": "reconcile" }`): `index.uploadEvents`. */
export const uploadEvents = (event: S3Event | ReconcileEvent): Promise<UploadEventsResult> => {
  if (!events) throw new Error('this function runs index.handler (see _HANDLER)');
  return events.handler(event);
};
