// `npm run bench:uploads` (issue 15, point 5): what the upload checks cost. Prints figures; asserts
// nothing. Against the local stack (`npm run local:up`), a broker on a free loopback port.
//   1. The added latency of `confirm: true`: N small PNG uploads without a confirm and N with one
//      (rules: size, type from the first bytes, quota), interleaved so drift hits both alike.
//   2. Webhook delivery: M signed events through the broker's sender to a local receiver that
//      verifies every signature, at 4 (the default) and 16 in flight: events per second.
// Options: --uploads N (default 100), --events M (default 5000).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { brokerCredentials, createStorage } from '../../client/index.js';
import { WebhookSender } from '../../server/events/webhook.js';
import { createLogger } from '../../server/index.js';
import { devPrefix, freshSubject, startBroker } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';
import { newWebhookSecret } from '../helpers/webhook-receiver.js';
import { loadAverage } from './conditions.js';
import { median, percentile } from './stats.js';

const { values } = parseArgs({ options: { uploads: { type: 'string' }, events: { type: 'string' } } });
const UPLOADS = Number(values.uploads ?? 100);
const EVENTS = Number(values.events ?? 5000);
const ms = (n: number) => `${n.toFixed(1)} ms`;
const say = (line: string) => process.stdout.write(`${line}\n`);

async function confirmLatency(): Promise<void> {
  const broker = await startBroker({
    grants: [
      {
        bucket: stack().bucket,
        scopes: [
          {
            prefix: 'users/{sub}/',
            access: ['read', 'write', 'list', 'delete'],
            uploads: { maxBytes: 10 * 1024 * 1024, contentTypes: ['image/*'], quotaBytes: 1024 ** 3 },
          },
        ],
      },
    ],
    uploads: { s3: ownerS3() },
    rateLimit: false,
  });
  const sub = freshSubject('bench');
  const storage = createStorage({
    credentials: brokerCredentials({ brokerUrl: broker.url, getToken: () => broker.token(sub) }),
  });
  const body = pngOfSize(5 * 1024);
  const plain: number[] = [];
  const confirmed: number[] = [];
  // Warm-up: credentials, connections, the JIT.
  for (let i = 0; i < 5; i++) await storage.upload(`warm-${i}.png`, body, { contentType: 'image/png', confirm: true });
  for (let i = 0; i < UPLOADS; i++) {
    for (const confirm of i % 2 === 0 ? [false, true] : [true, false]) {
      const started = performance.now();
      await storage.upload(`${confirm ? 'c' : 'p'}-${i}.png`, body, {
        contentType: 'image/png',
        ...(confirm ? { confirm: true as const } : {}),
      });
      (confirm ? confirmed : plain).push(performance.now() - started);
    }
  }
  await broker.close();
  say(
    `confirm: true, ${UPLOADS} uploads of a 5 KiB PNG each way, rules: maxBytes, contentTypes, quotaBytes (${devPrefix(sub)})`,
  );
  say(`  without confirm: median ${ms(median(plain))}, p95 ${ms(percentile(plain, 95))}`);
  say(`  with confirm:    median ${ms(median(confirmed))}, p95 ${ms(percentile(confirmed, 95))}`);
  say(
    `  added by the confirm: median ${ms(median(confirmed) - median(plain))}, p95 ${ms(percentile(confirmed, 95) - percentile(plain, 95))}`,
  );
}

async function webhookRate(concurrency: number): Promise<void> {
  const secret = newWebhookSecret();
  const verifier = new Webhook(secret);
  let verified = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      verifier.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>);
      verified++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const sender = new WebhookSender({ url, secret, concurrency, maxQueue: EVENTS }, createLogger('silent'));
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    sender.enqueue({
      id: `upl_bench_${i}`,
      event: {
        type: 'upload.accepted',
        timestamp: new Date().toISOString(),
        data: {
          bucket: 'keyhole-local',
          key: `users/bench/${i}.png`,
          subject: 'bench',
          size: 5120,
          contentType: 'image/png',
          etag: 'd41d8cd98f00b204e9800998ecf8427e',
          reason: null,
        },
      },
    });
  }
  await sender.idle();
  const seconds = (performance.now() - started) / 1000;
  receiver.close();
  const stats = sender.stats();
  say(
    `webhook: ${EVENTS} signed events, ${concurrency} in flight, receiver verifying each: ` +
      `${Math.round(EVENTS / seconds)} events/s (${verified} verified, ${stats.retried} retried, ${stats.failed} failed)`,
  );
}

say(`load average before: ${loadAverage().toFixed(2)}`);
await confirmLatency();
await webhookRate(4);
await webhookRate(16);
say(`load average after: ${loadAverage().toFixed(2)}`);
