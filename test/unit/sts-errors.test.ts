import { describe, expect, it } from 'vitest';
import { toUpstreamError } from '../../server/vendors/sts.js';

describe('STS error mapping', () => {
  it.each([
    [
      'an answered ResourceNotFound is a 502, not "unreachable"',
      Object.assign(new Error('ResourceNotFound: x'), {
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      }),
      502,
      'sts_error',
      'STS AssumeRole failed: ResourceNotFoundException',
    ],
    [
      'throttling is a 503',
      Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      503,
      'sts_unavailable',
      'STS AssumeRole failed: Throttling',
    ],
    [
      'a refused connection is a 503',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
        code: 'ECONNREFUSED',
        $metadata: { attempts: 3 },
      }),
      503,
      'sts_unavailable',
      'STS AssumeRole failed: unreachable',
    ],
    [
      'an AggregateError of refused connections is a 503',
      Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], ''), {
        $metadata: {},
      }),
      503,
      'sts_unavailable',
      'STS AssumeRole failed: unreachable',
    ],
    [
      'an unknown answered error is a 502',
      Object.assign(new Error('?'), { name: 'Unknown', $metadata: { httpStatusCode: 400 } }),
      502,
      'sts_error',
      'STS AssumeRole failed: unknown error',
    ],
  ])('%s', (_l, err, status, code, message) => {
    const mapped = toUpstreamError(err, 'AssumeRole');
    expect([mapped.status, mapped.code, mapped.message]).toEqual([status, code, message]);
    expect(mapped.cause).toBe(err);
  });
});
