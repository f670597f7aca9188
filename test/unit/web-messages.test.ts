// The web app's error sentences, in Node: "offline" is decided by the client's one isNetworkError,
// and a config.json problem is shown as written.
import { describe as group, expect, test, vi } from 'vitest';
import { BrokerError, StorageError } from '../../client/errors.js';
import { WebConfigError } from '../../client/web/src/errors.js';
import { describe } from '../../client/web/src/messages.js';

// The page imports the library by its package name (an alias in vite.config.ts); here it is the
// source in this checkout too, not whatever dist/ holds.
vi.mock('keyhole/client', () => import('../../client/index.js'));

group('describe', () => {
  test('a config.json problem is shown as is', () => {
    const err = new WebConfigError('This page\u2019s config.json is invalid: devLogin is missing. Serve it right.');
    expect(describe(err)).toEqual({ kind: 'error', text: err.message });
  });

  test('fetch failing to reach a host is offline', () => {
    expect(describe(new TypeError('Failed to fetch'))).toEqual({
      kind: 'offline',
      text: 'The network is unreachable. Check your connection, then try again.',
    });
  });

  test('a programming TypeError is not mistaken for being offline', () => {
    expect(describe(new TypeError("Cannot read properties of undefined (reading 'x')"))).toEqual({
      kind: 'error',
      text: "Something went wrong: Cannot read properties of undefined (reading 'x')",
    });
  });

  test('a storage error caused by the network is offline; another is a storage error', () => {
    const offline = new StorageError('s3_error', 'upload of "a.txt" failed', 'TypeError', undefined, {
      cause: new TypeError('Failed to fetch'),
    });
    expect(describe(offline)).toEqual({
      kind: 'offline',
      text: 'Can\u2019t reach the storage service. Check your connection, then try again.',
    });
    const other = new StorageError('s3_error', 'upload of "a.txt" failed', 'InternalError', 500);
    expect(describe(other)).toEqual({ kind: 'error', text: 'Storage error: upload of "a.txt" failed' });
  });

  test('denied access names the prefix; an unreachable broker says so', () => {
    const denied = new StorageError(
      'access_denied',
      'access denied: download "x" is outside your grant',
      'AccessDenied',
      403,
    );
    expect(describe(denied, { prefix: 'users/a/' })).toEqual({
      kind: 'denied',
      text: 'Access denied: download "x" is outside your grant. You can only use files under users/a/.',
    });
    // Inside the prefix the message already names the missing access: no second sentence about the prefix.
    const readOnly = new StorageError(
      'access_denied',
      'access denied: your grant does not allow write (upload "x"; it allows read, list)',
      'AccessDenied',
      403,
    );
    expect(describe(readOnly, { prefix: 'users/a/' })).toEqual({
      kind: 'denied',
      text: 'Access denied: your grant does not allow write (upload "x"; it allows read, list).',
    });
    expect(describe(new BrokerError(0, 'broker_unreachable', 'the Keyhole broker could not be reached'))).toEqual({
      kind: 'offline',
      text: 'Can\u2019t reach the Keyhole broker. Check your connection or that the server is running, then try again.',
    });
  });
});
