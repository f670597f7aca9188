// `keyhole/lambda`: the broker as an AWS Lambda behind an API Gateway HTTP API (payload format
// 2.0). Configured from the same environment variables as `npm run broker`. The broker is built
// once per container, when this module is loaded, so its JWKS cache, STS client and credential
// cache serve every request the container handles.
import { KeyholeError } from '../errors.js';
import type { HttpApiEvent, HttpApiResult } from './adapter.js';
import { lambdaBroker } from './init.js';

export type { HttpApiEvent, HttpApiResult } from './adapter.js';

function init() {
  try {
    return lambdaBroker(process.env);
  } catch (err) {
    // Named variables, as `npm run broker` prints them; the init error then fails the container.
    const message = err instanceof KeyholeError || err instanceof TypeError ? err.message : String(err);
    process.stderr.write(`keyhole: invalid configuration: ${message}\n`);
    throw err;
  }
}

const broker = init();

/** The Lambda handler: `index.handler` in the bundle `infra/aws` deploys. */
export const handler = (event: HttpApiEvent): Promise<HttpApiResult> => broker.handler(event);
