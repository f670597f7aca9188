import { stack } from '../../helpers/stack.js';
import { benchGrants, issuerFromEnv } from '../auth.js';
import { S3_ENDPOINT_ENV, serveForBench } from './app-server.js';
import { createPresignServer } from './presign.js';

const s = stack();
serveForBench(
  createPresignServer({
    issuers: [issuerFromEnv()],
    grants: benchGrants(s.bucket),
    region: s.region,
    endpoint: process.env[S3_ENDPOINT_ENV] || s.s3Endpoint,
    ownerCredentials: s.brokerCredentials,
  }),
);
