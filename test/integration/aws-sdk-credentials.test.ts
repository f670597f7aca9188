// Issue 16, point 5: GET /v1/credentials/aws-sdk answers what the AWS SDKs' HTTP credential
// provider reads, so an S3Client with `fromHttp` (AWS_CONTAINER_CREDENTIALS_FULL_URI +
// AWS_CONTAINER_AUTHORIZATION_TOKEN) works against the real RGW with no Keyhole client, scoped to
// the caller's prefix and access like POST /v1/credentials.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devPrefix, freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { stack } from '../helpers/stack.js';

const ROUTE = '/v1/credentials/aws-sdk';
let broker: TestBroker;
let off: TestBroker;
beforeAll(async () => {
  broker = await startBroker({ awsSdkRoute: true, rateLimit: { perSubject: { limit: 3, windowSeconds: 60 } } });
  off = await startBroker();
});
afterAll(async () => {
  await broker?.close();
  await off?.close();
});

function s3With(token: string, query = ''): S3Client {
  const s = stack();
  return new S3Client({
    region: s.region,
    endpoint: s.s3Endpoint,
    forcePathStyle: true,
    // The SDK's own provider, exactly as AWS_CONTAINER_CREDENTIALS_FULL_URI would configure it.
    credentials: fromHttp({
      awsContainerCredentialsFullUri: `${broker.url}${ROUTE}${query}`,
      awsContainerAuthorizationToken: `Bearer ${token}`,
      maxRetries: 0,
    }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

const getRoute = (token: string | undefined, query = '', base = broker.url) =>
  fetch(`${base}${ROUTE}${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('GET /v1/credentials/aws-sdk (the AWS SDKs\u2019 HTTP credential provider)', () => {
  it('an S3Client with fromHttp writes and reads its own prefix on RGW, and nothing else', async () => {
    const sub = freshSubject('sdk');
    const s3 = s3With(await broker.token(sub));
    const Bucket = stack().bucket;
    const Key = `${devPrefix(sub)}hello.txt`;
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'from any AWS SDK' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(await got.Body!.transformToString()).toBe('from any AWS SDK');
    const other = `${devPrefix(freshSubject('victim'))}x.txt`;
    await expect(s3.send(new PutObjectCommand({ Bucket, Key: other, Body: 'x' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    // One issuance, audited like the JSON route's.
    const issued = broker.logs.filter((l) => l.event === 'credentials.issued' && l.sub === sub);
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({ prefix: devPrefix(sub), access: ['read', 'write', 'list', 'delete'] });
  });

  it('answers exactly the provider\u2019s fields, never cached, same credentials as the JSON route', async () => {
    const token = await broker.token(freshSubject('shape'));
    const res = await getRoute(token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'Token']);
    expect(new Date(body.Expiration!).toISOString()).toBe(body.Expiration);
    // The credential cache is shared with POST /v1/credentials: the same key for the same request.
    const json = await broker.credentials(token);
    expect(json.body.credentials.accessKeyId).toBe(body.AccessKeyId);
    expect(json.body.credentials.expiration).toBe(body.Expiration);
  });

  it('?access=read gives a read-only credential: the write is denied on RGW', async () => {
    const sub = freshSubject('ro');
    const token = await broker.token(sub);
    const Bucket = stack().bucket;
    const Key = `${devPrefix(sub)}ro.txt`;
    await s3With(token).send(new PutObjectCommand({ Bucket, Key, Body: 'seed' }));
    const readOnly = s3With(token, '?access=read');
    const got = await readOnly.send(new GetObjectCommand({ Bucket, Key }));
    expect(await got.Body!.transformToString()).toBe('seed');
    await expect(readOnly.send(new PutObjectCommand({ Bucket, Key, Body: 'overwrite' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    const lines = broker.logs.filter((l) => l.event === 'credentials.issued' && l.sub === sub);
    expect(lines.map((l) => l.access)).toEqual([['read', 'write', 'list', 'delete'], ['read']]);
  });

  it('errors carry the broker\u2019s JSON and the SDK\u2019s Code and Message, which fromHttp surfaces', async () => {
    const res = await getRoute('not.a.jwt');
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      error: { code: 'malformed_token', message: 'the token is not a well-formed JWT' },
      Code: 'malformed_token',
      Message: 'the token is not a well-formed JWT',
    });
    const unknown = await getRoute(await broker.token(freshSubject('bad')), '?access=read,admin');
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { Code: string }).Code).toBe('invalid_body');
    const provider = fromHttp({
      awsContainerCredentialsFullUri: `${broker.url}${ROUTE}`,
      awsContainerAuthorizationToken: 'Bearer not.a.jwt',
      maxRetries: 0,
    });
    await expect(provider()).rejects.toMatchObject({
      name: 'CredentialsProviderError',
      message: 'Server responded with status: 401',
      Code: 'malformed_token',
      Message: 'the token is not a well-formed JWT',
    });
    // Without a token: 401 missing_token.
    const missing = await getRoute(undefined);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { Code: string }).Code).toBe('missing_token');
    // The JSON route's errors do not grow the SDK's fields.
    const json = await broker.credentials('not.a.jwt');
    expect(Object.keys(json.body)).toEqual(['error']);
  });

  it('counts against the same per-subject limit as POST /v1/credentials', async () => {
    const token = await broker.token(freshSubject('limit'));
    expect((await broker.credentials(token)).status).toBe(200);
    expect((await getRoute(token)).status).toBe(200);
    expect((await broker.credentials(token)).status).toBe(200);
    const refused = await getRoute(token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { Code: string }).Code).toBe('rate_limited');
  });

  it('is off unless enabled: 404 not_found, and no issuance', async () => {
    const sub = freshSubject('off');
    const res = await getRoute(await off.token(sub), '', off.url);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: `no route for GET ${ROUTE}` } });
    expect(off.logs.filter((l) => l.event === 'credentials.issued')).toEqual([]);
  });
});
