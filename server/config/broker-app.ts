// From a loaded configuration to a running app: the vendor, the bucket check, the broker and the
// web app, wired the same way for `npm run broker`, `npm start` and a Lambda entry.
import type { Express } from 'express';
import { createBroker } from '../broker.js';
import { createBucketInspector } from '../bucket-safety.js';
import { withWebApp } from '../http/web-app.js';
import type { Logger } from '../logger.js';
import { createCognitoVendor } from '../vendors/cognito.js';
import { createSharedState } from '../shared/state.js';
import { createStsVendor } from '../vendors/sts.js';
import type { KeyholeConfig } from './types.js';
import { uploadsOptionsFrom } from './uploads-env.js';

/** The broker (and the web app, when configured) for `config`. Throws TypeError on a bad option. */
export function brokerAppFrom(config: KeyholeConfig, logger: Logger): Express {
  const app = createBroker({
    ...config.broker,
    vendor: config.vendor.kind === 'cognito' ? createCognitoVendor(config.vendor) : createStsVendor(config.vendor),
    bucketCheck: config.bucketCheck === 'accept-risk' ? 'accept-risk' : createBucketInspector(config.bucketCheck),
    ...(config.redis ? { sharedState: createSharedState({ ...config.redis, logger }) } : {}),
    ...(config.uploads ? { uploads: uploadsOptionsFrom(config.uploads) } : {}),
    logger,
  });
  if (!config.web) return app;
  // The page asks for each upload's verdict only where the broker serves POST /v1/uploads/complete.
  const web = config.uploads ? { ...config.web, config: { ...config.web.config, confirmUploads: true } } : config.web;
  return withWebApp(app, web);
}
