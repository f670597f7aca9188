// The web app asks for each upload's verdict only where the broker serves POST /v1/uploads/complete
// (issue 15, point 4): brokerAppFrom sets config.json's `confirmUploads` from the loaded configuration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { brokerAppFrom, loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'keyhole-web-confirm-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('config.json says confirmUploads: true when the broker checks uploads', async () => {
  const config = loadConfig({
    AWS_REGION: 'us-east-1',
    KEYHOLE_BUCKET: 'uploads',
    KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
    KEYHOLE_DEV_LOGIN: '1',
    KEYHOLE_ACCEPT_PUBLIC_ACL_RISK: '1',
    KEYHOLE_STS_ENDPOINT: 'http://127.0.0.1:9',
    KEYHOLE_S3_ENDPOINT: 'http://127.0.0.1:9',
    KEYHOLE_BROKER_ACCESS_KEY_ID: 'AK',
    KEYHOLE_BROKER_SECRET_ACCESS_KEY: 'SK',
    KEYHOLE_WEB_DIR: dir,
  });
  expect(config.uploads).toBeDefined();
  const app = brokerAppFrom(config, createLogger('silent'));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/config.json`);
    expect(await res.json()).toMatchObject({ devLogin: true, confirmUploads: true });
  } finally {
    server.close();
  }
});
