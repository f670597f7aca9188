// Completion of multipart uploads and of concurrent uploads of one key (issue 15): one correct
// outcome each, judged on the object as stored, against the real RGW.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerCredentials, createStorage } from '../../client/index.js';
import type { UploadEvent } from '../../client/protocol/uploads.js';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';

const MiB = 1024 * 1024;
const bucket = stack().bucket;
const events: UploadEvent[] = [];
let broker: TestBroker;

beforeAll(async () => {
  broker = await startBroker({
    grants: [
      {
        bucket,
        scopes: [
          {
            prefix: 'users/{sub}/',
            access: ['read', 'write', 'list', 'delete'],
            uploads: { maxBytes: 12 * MiB, contentTypes: ['image/png'] },
          },
        ],
      },
    ],
    uploads: { s3: ownerS3() },
    onUpload: (e) => void events.push(e),
  });
});
afterAll(() => broker?.close());

function storageFor(sub: string) {
  const credentials = brokerCredentials({ brokerUrl: broker.url, getToken: () => broker.token(sub) });
  return createStorage({ credentials, partSizeBytes: 5 * MiB });
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
}

describe('completion of multipart and concurrent uploads', () => {
  it('judges a multipart upload on the stored object: 11 MiB PNG in 3 parts accepted, 13 MiB rejected', async () => {
    const sub = freshSubject('mp');
    const storage = storageFor(sub);
    const ok = await storage.upload('big.png', pngOfSize(11 * MiB), { contentType: 'image/png', confirm: true });
    expect(ok.verdict).toMatchObject({ status: 'accepted', size: 11 * MiB, contentType: 'image/png' });
    expect(ok.verdict.etag).toMatch(/^[0-9a-f]{32}-3$/);
    const big = await storage.upload('bigger.png', pngOfSize(13 * MiB), { contentType: 'image/png', confirm: true });
    expect(big.verdict).toMatchObject({ status: 'rejected', reason: 'too_large', size: 13 * MiB });
    await settle();
    expect(events.filter((e) => e.data.subject === sub).map((e) => [e.data.key, e.type, e.data.etag])).toEqual([
      [`${devPrefix(sub)}big.png`, 'upload.accepted', ok.verdict.etag],
      [`${devPrefix(sub)}bigger.png`, 'upload.rejected', big.verdict.etag],
    ]);
  });

  it('two concurrent uploads of one key, each confirmed: one verdict on the version that won, one event', async () => {
    const sub = freshSubject('race');
    const [a, b] = [storageFor(sub), storageFor(sub)];
    await Promise.all([
      a.upload('same.png', pngOfSize(1000), { contentType: 'image/png' }),
      b.upload('same.png', 'not a png at all', { contentType: 'image/png' }),
    ]);
    const res = await Promise.all(
      [1, 2].map(async () => {
        const r = await fetch(`${broker.url}/v1/uploads/complete`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await broker.token(sub)}`, 'content-type': 'application/json' },
          body: JSON.stringify({ key: 'same.png' }),
        });
        return r.json();
      }),
    );
    expect(res[0]).toEqual(res[1]);
    const verdict = res[0] as { status: string; size: number; reason?: string };
    // Whichever write RGW kept last is the one judged, and judged by its own bytes.
    expect([
      { status: 'accepted', size: 1000 },
      { status: 'rejected', size: 16, reason: 'type_mismatch' },
    ]).toContainEqual({
      status: verdict.status,
      size: verdict.size,
      ...(verdict.reason ? { reason: verdict.reason } : {}),
    });
    await settle();
    expect(events.filter((e) => e.data.subject === sub)).toHaveLength(1);
  });
});
