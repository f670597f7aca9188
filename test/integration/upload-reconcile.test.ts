// reconcileBrokerUploads (issue 15, point 3, as a library function): a broker made by createBroker
// reconciles with its own completer, so an object it already judged (here by a confirm) sends no
// second event, while the objects no event reported are judged, oldest first, and removed when they
// break the rules. On the local RGW, under a grant prefix of this file's own.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UploadEvent } from '../../client/protocol/uploads.js';
import { createBroker, createLogger, reconcileBrokerUploads } from '../../server/index.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack, stackVendor } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';

const s3 = ownerS3();
const bucket = stack().bucket;
const root = `reconcile-lib-${Date.now().toString(36)}`;
const events: UploadEvent[] = [];
const app = createBroker({
  devLogin: true,
  region: stack().region,
  s3Endpoint: stack().s3Endpoint,
  vendor: stackVendor(),
  bucketCheck: 'accept-risk',
  rateLimit: false,
  grants: [
    {
      bucket,
      scopes: [
        {
          prefix: `${root}/{sub}/`,
          access: ['read', 'write', 'list', 'delete'],
          uploads: { maxBytes: 1024, contentTypes: ['image/*'] },
        },
      ],
    },
  ],
  uploads: { s3 },
  onUpload: (e) => void events.push(e),
  logger: createLogger('silent'),
});
let server: Server;
let url = '';
beforeAll(async () => {
  server = await new Promise<Server>((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server?.close());

const put = (key: string, body: string | Buffer) =>
  s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'image/png' }));
const head = (key: string) => s3Outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
const settled = () => new Promise((r) => setImmediate(r));

describe('reconcileBrokerUploads', () => {
  it('judges what no event reported, and sends nothing again for what this broker judged', async () => {
    const confirmed = `${root}/dev-ann/confirmed.png`;
    const missed = `${root}/dev-ann/missed one.png`;
    const big = `${root}/dev-bo/big.png`;
    await put(confirmed, pngOfSize(100));
    await put(missed, pngOfSize(200));
    await put(big, pngOfSize(5000));
    const token = (
      (await (
        await fetch(`${url}/v1/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"sub":"ann"}',
        })
      ).json()) as { token: string }
    ).token;
    const confirm = await fetch(`${url}/v1/uploads/complete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'confirmed.png' }),
    });
    expect(((await confirm.json()) as { status: string }).status).toBe('accepted');

    const summary = await reconcileBrokerUploads(app, { since: new Date(Date.now() - 600_000), until: new Date() });
    expect(summary).toMatchObject({ pages: 1, listed: 3, judged: 3, accepted: 2, rejected: 1, complete: true });
    await settled();
    expect(events.map((e) => [e.data.key, e.data.subject, e.data.reason]).sort()).toEqual(
      [
        [confirmed, 'ann', null],
        [missed, 'ann', null],
        [big, 'bo', 'too_large'],
      ].sort(),
    );
    expect(await head(big)).toBe('404 NotFound');

    // Again: everything is remembered, so no new event at all.
    await reconcileBrokerUploads(app, { since: new Date(Date.now() - 600_000), until: new Date() });
    await settled();
    expect(events).toHaveLength(3);
  });

  it('refuses an app without upload checks, and a missing since', async () => {
    expect(() => reconcileBrokerUploads({ locals: {} }, { since: new Date() })).toThrow(
      'app must be a broker made by createBroker with options.uploads',
    );
    expect(() => reconcileBrokerUploads(app, { since: 'yesterday' as never })).toThrow('since must be a Date');
  });
});
