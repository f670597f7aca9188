// RGW bucket notifications for the local stack: one topic that pushes to the broker's
// `POST /v1/uploads/notify?token=…`, and the bucket's `ObjectCreated:*` notification on the grant prefix.
// Facts this relies on (RGW 16.2.15, ../shared/notes/rgw-hardening-and-events.md, and
// test/stack/notifications.test.ts):
// - the topic API is the SNS-style `POST /` form, SigV4-signed for service `sns`, and answers 405 when
//   radosgw runs without `notifications` in `rgw enable apis`;
// - a sync topic (the default, not `persistent`) delivers before the upload's answer returns, and an
//   upload still succeeds when the receiver is down (the event is then lost: `keyhole reconcile`);
// - PutBucketNotificationConfiguration *adds* by Id, so the bucket's notifications are removed first
//   (a signed `DELETE /<bucket>?notification`);
// - never subscribe `ObjectRemoved`: a multi-object delete on such a bucket aborts radosgw 16.
import { randomBytes } from 'node:crypto';
import { URL, URLSearchParams } from 'node:url';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export const TOPIC_NAME = 'keyhole-uploads';
export const NOTIFICATION_ID = 'keyhole-created';

/** The notify token of the stack in `state`: made once (64 hex characters), kept in `state/notify.token`. */
export function notifyToken(state) {
  const file = `${state}/notify.token`;
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{32,256}$/.test(kept)) return kept;
  }
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** The broker's notify URL for a broker on 127.0.0.1:`port`. */
export function pushEndpoint(port, token) {
  return `http://127.0.0.1:${port}/v1/uploads/notify?token=${token}`;
}

async function signedFetch({ endpoint, region, credentials, service, method, path, query = {}, body = '' }) {
  const url = new URL(path, endpoint);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const signer = new SignatureV4({ service, region, credentials, sha256: Sha256 });
  const headers = { host: url.host };
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body,
  });
  const res = await fetch(url, { method, headers: signed.headers, body: body || undefined });
  return { status: res.status, text: await res.text() };
}

/**
 * Makes the topic and the bucket's notification so: `ObjectCreated:*` under `prefix`, pushed to
 * `endpointUrl`. Answers `{ ok: true, topicArn }`, or `{ ok: false, reason }` when this radosgw
 * serves no topic API (it was started before `notifications` was enabled: a restart turns it on).
 */
export async function ensureNotifications({ s3, endpoint, region, credentials, bucket, prefix, endpointUrl }) {
  const form = new URLSearchParams({
    Action: 'CreateTopic',
    Name: TOPIC_NAME,
    'Attributes.entry.1.key': 'push-endpoint',
    'Attributes.entry.1.value': endpointUrl,
  }).toString();
  const topic = await signedFetch({
    endpoint,
    region,
    credentials,
    service: 'sns',
    method: 'POST',
    path: '/',
    body: form,
  });
  if (topic.status === 405 || topic.status === 501) {
    return {
      ok: false,
      reason: `the running radosgw serves no notifications API (CreateTopic answered ${topic.status})`,
    };
  }
  if (topic.status !== 200) throw new Error(`CreateTopic answered ${topic.status}: ${topic.text.slice(0, 300)}`);
  const topicArn = /<TopicArn>([^<]+)<\/TopicArn>/.exec(topic.text)?.[1];
  if (!topicArn) throw new Error(`CreateTopic answered no TopicArn: ${topic.text.slice(0, 300)}`);
  await removeNotifications({ endpoint, region, credentials, bucket });
  const { PutBucketNotificationConfigurationCommand } = await import('@aws-sdk/client-s3');
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        TopicConfigurations: [
          {
            Id: NOTIFICATION_ID,
            TopicArn: topicArn,
            // Created only: an ObjectRemoved subscription makes a multi-object delete abort radosgw 16.
            Events: ['s3:ObjectCreated:*'],
            ...(prefix ? { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } } } : {}),
          },
        ],
      },
    }),
  );
  return { ok: true, topicArn };
}

/**
 * Removes the bucket's notifications (a signed `DELETE /<bucket>?notification`; 404 when the running
 * radosgw serves no notifications API counts as nothing to remove).
 */
export async function removeNotifications({ endpoint, region, credentials, bucket }) {
  const removed = await signedFetch({
    endpoint,
    region,
    credentials,
    service: 's3',
    method: 'DELETE',
    path: `/${bucket}`,
    query: { notification: '' },
  });
  if (removed.status >= 300 && removed.status !== 404 && removed.status !== 405) {
    throw new Error(`DELETE ?notification answered ${removed.status}: ${removed.text.slice(0, 300)}`);
  }
}
