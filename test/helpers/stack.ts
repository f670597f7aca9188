// Connection settings of the running local stack, read from the file `npm run local:up` writes.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { createBucketInspector, createStsVendor, type StsVendorOptions } from '../../server/index.js';
import type { TestIssuer } from './jwt.js';

export const ENV_FILE =
  process.env.KEYHOLE_ENV_FILE ?? fileURLToPath(new URL('../../.local/keyhole.env', import.meta.url));

export interface Stack {
  readonly region: string;
  readonly bucket: string;
  readonly roleArn: string;
  readonly stsEndpoint: string;
  readonly s3Endpoint: string;
  readonly s3TlsEndpoint: string;
  readonly caCertFile: string;
  readonly brokerCredentials: { accessKeyId: string; secretAccessKey: string };
}

let cached: Stack | undefined;

export function stack(): Stack {
  cached ??= stackFrom(ENV_FILE);
  return cached;
}

/**
 * The environment that points a broker process (or the Lambda handler) at the local stack and
 * trusts `issuer`, as an operator's configuration would: region, bucket, role, endpoints, the
 * broker's keys and the issuer. Callers add their own limits, logging and the like.
 */
export function stackBrokerEnv(issuer: TestIssuer): Record<string, string> {
  const s = stack();
  return {
    AWS_REGION: s.region,
    KEYHOLE_BUCKET: s.bucket,
    KEYHOLE_ROLE_ARN: s.roleArn,
    KEYHOLE_STS_ENDPOINT: s.stsEndpoint,
    KEYHOLE_S3_ENDPOINT: s.s3Endpoint,
    KEYHOLE_BROKER_ACCESS_KEY_ID: s.brokerCredentials.accessKeyId,
    KEYHOLE_BROKER_SECRET_ACCESS_KEY: s.brokerCredentials.secretAccessKey,
    KEYHOLE_JWT_ISSUER: issuer.issuer,
    KEYHOLE_JWT_AUDIENCE: issuer.audience,
    KEYHOLE_JWT_PUBLIC_KEY: issuer.publicKeyPem,
  };
}

/** The settings of the stack whose settings file is `envFile` (another instance than `stack()`'s). */
export function stackFrom(envFile: string): Stack {
  const env = parseEnv(readFileSync(envFile, 'utf8'));
  const get = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${envFile} has no ${k}; run npm run local:up`);
    return v;
  };
  return {
    region: get('AWS_REGION'),
    bucket: get('KEYHOLE_BUCKET'),
    roleArn: get('KEYHOLE_ROLE_ARN'),
    stsEndpoint: get('KEYHOLE_STS_ENDPOINT'),
    s3Endpoint: get('KEYHOLE_S3_ENDPOINT'),
    s3TlsEndpoint: get('KEYHOLE_S3_TLS_ENDPOINT'),
    caCertFile: get('KEYHOLE_LOCAL_CA_CERT'),
    brokerCredentials: {
      accessKeyId: get('KEYHOLE_BROKER_ACCESS_KEY_ID'),
      secretAccessKey: get('KEYHOLE_BROKER_SECRET_ACCESS_KEY'),
    },
  };
}

/**
 * S3 client with the bucket owner's static keys: for test setup and for checking what happened.
 * Of the shared stack by default, or of the stack `s` (see `stackFrom`).
 */
export function ownerS3(s: Stack = stack()): S3Client {
  return new S3Client({
    region: s.region,
    endpoint: s.s3Endpoint,
    forcePathStyle: true,
    credentials: s.brokerCredentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The real STS vendor against the local RGW, as the broker would build it from the settings file. */
export function stackVendor(overrides: Partial<StsVendorOptions> = {}) {
  const s = stack();
  return createStsVendor({
    roleArn: s.roleArn,
    region: s.region,
    endpoint: s.stsEndpoint,
    credentials: s.brokerCredentials,
    ...overrides,
  });
}

/** The broker's bucket ACL check against the local RGW, with the broker's own keys. */
export function stackBucketInspector() {
  const s = stack();
  return createBucketInspector({
    region: s.region,
    endpoint: s.s3Endpoint,
    forcePathStyle: true,
    credentials: s.brokerCredentials,
  });
}
