// The Keyhole broker exactly as an app would run it (product code, default credential cache),
// with rate limits off so the capacity test measures the broker, not its limiter.
import { createWriteStream } from 'node:fs';
import { createBroker, createLogger } from '../../../server/index.js';
import { stack, stackVendor } from '../../helpers/stack.js';
import { benchGrants, issuerFromEnv } from '../auth.js';
import { S3_ENDPOINT_ENV, serveForBench } from './app-server.js';

const s = stack();
const vendor = stackVendor();
const app = createBroker({
  issuers: [issuerFromEnv()],
  grants: benchGrants(s.bucket),
  vendor,
  region: s.region,
  s3Endpoint: process.env[S3_ENDPOINT_ENV] || s.s3Endpoint,
  rateLimit: false,
  // Audit lines are part of the broker's real cost: written, but to nowhere.
  logger: createLogger('info', createWriteStream('/dev/null')),
});
serveForBench(app, () => vendor.upstreamCalls());
