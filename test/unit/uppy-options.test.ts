// uppyAwsS3Options (client/uppy.ts) without a browser: which of @uppy/aws-s3 6's signing modes it
// picks for a grant, the shape getCredentials returns, the bucket URL, and keys under the prefix.
import { describe, expect, it } from 'vitest';
import { InvalidKeyError, uppyAwsS3Options, type BrokerCredentialsProvider } from '../../client/index.js';

function provider(grant: Record<string, unknown>): BrokerCredentialsProvider {
  const expiration = new Date('2030-01-01T00:00:00Z');
  return Object.assign(async () => ({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST', expiration }), {
    grant: async () => ({ bucket: 'b', prefix: 'users/ann/', region: 'eu-west-1', access: ['write'], ...grant }),
    clear: () => undefined,
    brokerRequests: 0,
  }) as unknown as BrokerCredentialsProvider;
}

describe('uppyAwsS3Options', () => {
  it("on AWS: Uppy's temporary-credentials option, the bucket's virtual-hosted URL, keys under the prefix", async () => {
    const o = await uppyAwsS3Options(provider({}));
    expect(o).toMatchObject({ s3Endpoint: 'https://b.s3.eu-west-1.amazonaws.com', region: 'eu-west-1' });
    if (!('getCredentials' in o)) throw new Error('expected getCredentials');
    expect(await o.getCredentials()).toEqual({
      credentials: {
        accessKeyId: 'AK',
        secretAccessKey: 'SK',
        sessionToken: 'ST',
        expiration: '2030-01-01T00:00:00.000Z',
      },
      region: 'eu-west-1',
    });
    expect(o.generateObjectKey({ name: 'cat.jpg' })).toBe('users/ann/cat.jpg');
    expect(() => o.generateObjectKey({ name: '../bob/x' })).toThrow(InvalidKeyError);
  });

  it('with an endpoint (RGW): signRequest by default, getCredentials on request with a path-style URL', async () => {
    const grant = { endpoint: 'http://127.0.0.1:7480/' };
    const presign = await uppyAwsS3Options(provider(grant));
    expect(Object.keys(presign).sort()).toEqual(['generateObjectKey', 'signRequest']);
    const creds = await uppyAwsS3Options(provider(grant), { sign: 'credentials', key: (f) => `up/${f.name}` });
    expect(creds).toMatchObject({ s3Endpoint: 'http://127.0.0.1:7480/b' });
    expect(creds.generateObjectKey({ name: 'a.txt' })).toBe('users/ann/up/a.txt');
  });

  it('refuses what is not a provider, and an unknown sign mode', async () => {
    await expect(uppyAwsS3Options({} as never)).rejects.toThrow(
      'credentials must be a provider from brokerCredentials(...)',
    );
    await expect(uppyAwsS3Options(provider({}), { sign: 'x' as never })).rejects.toThrow(
      'options.sign must be "credentials" or "presign"',
    );
  });
});
