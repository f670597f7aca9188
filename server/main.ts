// `npm run broker`: validates configuration, then serves the broker. A configuration error exits
// with status 2 and one line naming the variable, never a stack trace.
import { createBroker } from './broker.js';
import { loadConfig, type KeyholeConfig } from './config.js';
import { KeyholeError } from './errors.js';
import { createLogger } from './logger.js';
import { createStsVendor } from './vendors/sts.js';

let config: KeyholeConfig;
let app;
try {
  config = loadConfig(process.env);
  app = createBroker({
    ...config.broker,
    vendor: createStsVendor(config.vendor),
    logger: createLogger(config.logLevel),
  });
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
