// `npm run broker`: validates configuration, then serves the broker. A configuration error exits
// with status 2 and one line naming the variable, never a stack trace.
import { createBroker } from './broker.js';
import { createBucketInspector } from './bucket-safety.js';
import { loadConfig, withEnvFile, type KeyholeConfig } from './config.js';
import { KeyholeError } from './errors.js';
import { webAppFromEnv, withWebApp, type WebAppOptions } from './http/web-app.js';
import { createLogger } from './logger.js';
import { createStsVendor } from './vendors/sts.js';
import { createCognitoVendor } from './vendors/cognito.js';

let config: KeyholeConfig;
let app;
let web: WebAppOptions | undefined;
try {
  config = loadConfig(process.env);
  app = createBroker({
    ...config.broker,
    vendor: config.vendor.kind === 'cognito' ? createCognitoVendor(config.vendor) : createStsVendor(config.vendor),
    bucketCheck: config.bucketCheck === 'accept-risk' ? 'accept-risk' : createBucketInspector(config.bucketCheck),
    logger: createLogger(config.logLevel),
  });
  // KEYHOLE_WEB_DIR: also serve the built web app, same origin as the broker.
  web = webAppFromEnv(withEnvFile(process.env), {
    devLogin: config.broker.devLogin === true,
    s3Endpoint: config.broker.s3Endpoint,
    region: config.broker.region,
  });
  if (web) app = withWebApp(app, web);
} catch (err) {
  const message =
    err instanceof KeyholeError || err instanceof TypeError || err instanceof RangeError ? err.message : String(err);
  process.stderr.write(`keyhole: invalid configuration: ${message.split('\n')[0]}\n`);
  process.exit(2);
}

const server = app.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host}:${port}`;
  process.stdout.write(`keyhole broker listening on ${base}\n`);
  if (web) process.stdout.write(`web app: open ${base}/ in a browser\n`);
  if (config.broker.devLogin) {
    process.stdout.write(
      `try it:\n  TOKEN=$(curl -s -X POST ${base}/v1/dev/token -H 'content-type: application/json' -d '{"sub":"alice"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')\n` +
        `  curl -s -X POST ${base}/v1/credentials -H "authorization: Bearer $TOKEN"\n`,
    );
  }
});
server.on('error', (err: NodeJS.ErrnoException) => {
  process.stderr.write(`keyhole: cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}\n`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
