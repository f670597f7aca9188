// isNetworkError: the one test for "no answer arrived", shared by the client, the CLI and the web app.
import { describe, expect, it } from 'vitest';
import { BrokerError, isNetworkError, StorageError } from '../../client/index.js';

const coded = (code: string, message = `connect ${code} 127.0.0.1:9`) => Object.assign(new Error(message), { code });
const named = (name: string, message = name, extra: object = {}) => Object.assign(new Error(message), { name }, extra);

describe('isNetworkError', () => {
  it.each([
    ['Node fetch (undici)', new TypeError('fetch failed', { cause: coded('ECONNREFUSED') })],
    ['Node fetch with no cause', new TypeError('fetch failed')],
    ['Chrome fetch', new TypeError('Failed to fetch')],
    ['Firefox fetch', new TypeError('NetworkError when attempting to fetch resource.')],
    ['Safari fetch', new TypeError('Load failed')],
    ['Safari, connection lost', new TypeError('The network connection was lost.')],
    ['a DOMException NetworkError', named('NetworkError', 'A network error occurred.')],
    ['a refused connection (node-http-handler)', coded('ECONNREFUSED')],
    ['a reset connection', coded('ECONNRESET', 'socket hang up')],
    ['an unknown host', coded('ENOTFOUND', 'getaddrinfo ENOTFOUND s3.invalid')],
    ['a DNS failure to retry', coded('EAI_AGAIN')],
    ['an unreachable host', coded('EHOSTUNREACH')],
    ['an unreachable network', coded('ENETUNREACH')],
    ['a socket timeout', coded('ETIMEDOUT')],
    ['a broken pipe', coded('EPIPE')],
    ['undici connect timeout', coded('UND_ERR_CONNECT_TIMEOUT')],
    ['undici socket error', coded('UND_ERR_SOCKET', 'other side closed')],
    ['the SDK’s connection timeout', named('TimeoutError', 'Connection timed out after 1000 ms')],
    [
      'happy eyeballs: an AggregateError of refusals',
      new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], ''),
    ],
    [
      'a StorageError around the SDK around fetch around the socket',
      new StorageError('s3_error', 'upload of "a" failed: TypeError: fetch failed', 'TypeError', undefined, {
        cause: new TypeError('fetch failed', { cause: coded('ECONNRESET') }),
      }),
    ],
    [
      'broker_unreachable',
      new BrokerError(0, 'broker_unreachable', 'the Keyhole broker at x could not be reached', {
        cause: new TypeError('Failed to fetch'),
      }),
    ],
    ['a plain object (not an Error)', { code: 'ECONNREFUSED' }],
  ])('%s: yes', (_what, err) => {
    expect(isNetworkError(err)).toBe(true);
  });

  it.each([
    ['a programming TypeError', new TypeError('Cannot read properties of undefined (reading "x")')],
    ['a TypeError about arguments', new TypeError('body must be a Uint8Array, string, Blob...')],
    ['an answered S3 error', named('AccessDenied', 'Access Denied', { $metadata: { httpStatusCode: 403 } })],
    ['an answered 408 named TimeoutError', named('TimeoutError', 'x', { $metadata: { httpStatusCode: 408 } })],
    ['a cancelled request', named('AbortError', 'This operation was aborted')],
    ['S3 RequestTimeout (answered)', named('RequestTimeout', 'x', { $metadata: { httpStatusCode: 400 } })],
    ['a broker 503', new BrokerError(503, 'sts_unavailable', 'STS is unavailable')],
    ['a file error', coded('ENOENT', 'no such file')],
    ['a code that is not a string', { code: 111 }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'fetch failed'],
    ['a number', 42],
  ])('%s: no', (_what, err) => {
    expect(isNetworkError(err)).toBe(false);
  });

  it('looks 6 levels deep, no deeper, so a cycle ends', () => {
    const nest = (levels: number) => {
      let err: Error = coded('ECONNREFUSED');
      for (let i = 0; i < levels; i++) err = new Error(`wrapper ${i}`, { cause: err });
      return err;
    };
    expect(isNetworkError(nest(5))).toBe(true);
    expect(isNetworkError(nest(6))).toBe(false);
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isNetworkError(a)).toBe(false);
  });
});
