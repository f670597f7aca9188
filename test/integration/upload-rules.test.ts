// Upload rules against the real RGW (issue 15): each broken rule removes the object (HEAD 404), or
// moves it to a quarantine prefix; a valid PNG stays. Driven through enforceRules with the broker's
// own keys; the HTTP route on top is tested in uploads-complete.test.ts.
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { enforceRules, type EnforceSettings } from '../../server/uploads/enforce.js';
import { headObject } from '../../server/uploads/inspect.js';
import { compileUploadRules, type UploadRules } from '../../server/uploads/rules.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { capturedLogger, pngOfSize } from '../helpers/uploads.js';

const s3 = ownerS3();
const bucket = stack().bucket;

function freshPrefix(): string {
  return `users/rules-${randomBytes(6).toString('hex')}/`;
}

async function put(key: string, body: Buffer | string, contentType?: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(contentType ? { ContentType: contentType } : {}),
    }),
  );
}

async function check(key: string, scopePrefix: string, rules: UploadRules, over: Partial<EnforceSettings> = {}) {
  const { logger, lines } = capturedLogger();
  const head = await headObject(s3, bucket, key);
  expect(head).toBeDefined();
  const out = await enforceRules(
    { s3, quarantinePrefix: undefined, quotaMaxObjects: 10_000, logger, ...over },
    { bucket, key, scopePrefix },
    compileUploadRules(rules, 'rules'),
    head!,
  );
  return { ...out, lines };
}

const exists = (key: string) => s3Outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));

describe('upload rules on RGW', () => {
  it('removes an oversized object: too_large, HEAD 404', async () => {
    const prefix = freshPrefix();
    await put(`${prefix}big.png`, pngOfSize(2048), 'image/png');
    const out = await check(`${prefix}big.png`, prefix, { maxBytes: 1024, contentTypes: ['image/*'] });
    expect(out.reason).toBe('too_large');
    expect(out.removal).toEqual({ action: 'deleted' });
    expect(await exists(`${prefix}big.png`)).toBe('404 NotFound');
  });

  it('removes a text file named .png and declared image/png: type_mismatch, HEAD 404', async () => {
    const prefix = freshPrefix();
    await put(`${prefix}fake.png`, 'this is plain text, not a picture\n', 'image/png');
    const out = await check(`${prefix}fake.png`, prefix, { contentTypes: ['image/*'] });
    expect(out).toMatchObject({ reason: 'type_mismatch', contentType: 'image/png', removal: { action: 'deleted' } });
    expect(await exists(`${prefix}fake.png`)).toBe('404 NotFound');
  });

  it('removes a PDF where only images are allowed: type_not_allowed', async () => {
    const prefix = freshPrefix();
    await put(
      `${prefix}doc.pdf`,
      Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1'),
    );
    const out = await check(`${prefix}doc.pdf`, prefix, { contentTypes: ['image/*'] });
    expect(out).toMatchObject({ reason: 'type_not_allowed', contentType: 'application/pdf' });
    expect(await exists(`${prefix}doc.pdf`)).toBe('404 NotFound');
  });

  it('keeps a valid PNG, typed from its bytes even when declared as octet-stream', async () => {
    const prefix = freshPrefix();
    await put(`${prefix}ok.png`, pngOfSize(500));
    const out = await check(`${prefix}ok.png`, prefix, {
      maxBytes: 1024,
      contentTypes: ['image/png'],
      quotaBytes: 1000,
    });
    expect(out).toMatchObject({ reason: undefined, contentType: 'image/png', removal: undefined });
    expect(out.usage).toEqual({ bytes: 500, objects: 1, complete: true });
    expect(await exists(`${prefix}ok.png`)).toBe('OK');
  });

  it('removes the upload that crosses the quota and keeps the earlier one: quota_exceeded', async () => {
    const prefix = freshPrefix();
    const rules = { quotaBytes: 1000 };
    await put(`${prefix}a.png`, pngOfSize(600), 'image/png');
    expect((await check(`${prefix}a.png`, prefix, rules)).reason).toBeUndefined();
    await put(`${prefix}b.png`, pngOfSize(600), 'image/png');
    const out = await check(`${prefix}b.png`, prefix, rules);
    expect(out.reason).toBe('quota_exceeded');
    expect(out.usage).toEqual({ bytes: 1200, objects: 2, complete: true });
    expect(await exists(`${prefix}b.png`)).toBe('404 NotFound');
    expect(await exists(`${prefix}a.png`)).toBe('OK');
  });

  it('counts a prefix beyond quotaMaxObjects as over quota, and says so in the log', async () => {
    const prefix = freshPrefix();
    for (const k of ['1', '2', '3']) await put(`${prefix}${k}`, 'x');
    const out = await check(`${prefix}3`, prefix, { quotaBytes: 1_000_000 }, { quotaMaxObjects: 2 });
    expect(out.reason).toBe('quota_exceeded');
    expect(out.usage).toEqual({ bytes: 2, objects: 2, complete: false });
    expect(out.lines.filter((l) => l.event === 'uploads.quota_uncounted')).toEqual([
      expect.objectContaining({ bucket, prefix, listed: 2 }),
    ]);
  });

  it('moves a rejected object under the quarantine prefix, out of the user’s prefix', async () => {
    const prefix = freshPrefix();
    const quarantinePrefix = `quarantine-${randomBytes(4).toString('hex')}/`;
    const key = `${prefix}a b+c%é.png`;
    await put(key, 'not an image', 'image/png');
    const out = await check(key, prefix, { contentTypes: ['image/*'] }, { quarantinePrefix });
    expect(out.reason).toBe('type_mismatch');
    expect(out.removal).toEqual({ action: 'quarantined', key: quarantinePrefix + key });
    expect(await exists(key)).toBe('404 NotFound');
    const moved = await headObject(s3, bucket, quarantinePrefix + key);
    expect(moved).toMatchObject({ size: 12, contentType: 'image/png' });
  });
});
