import { stack } from '../../helpers/stack.js';
import { benchGrants, issuerFromEnv } from '../auth.js';
import { serveForBench } from './app-server.js';
import { createPresignServer } from './presign.js';

const s = stack();
serveForBench(
  createPresignServer({
    issuers: [issuerFromEnv()],
    grants: benchGrants(s.bucket),
    region: s.region,
    endpoint: s.s3Endpoint,
    ownerCredentials: s.brokerCredentials,
  }),
);
