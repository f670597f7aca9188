// The web app's config.json loading, in Node: each way the file can be wrong gives one sentence
// naming the field and the fix, and a good file passes through unchanged.
import { describe, expect, test } from 'vitest';
import { brokerBaseUrl, loadConfig, parseWebConfig } from '../../client/web/src/config.js';
import { WebConfigError } from '../../client/web/src/errors.js';

const FIX = 'Serve the page from the Keyhole broker with KEYHOLE_WEB_DIR set: it writes config.json from its settings.';
const oidc = { issuer: 'https://id.example.com', clientId: 'web', scope: 'openid', token: 'id_token' };

/** What the page's fetch of config.json resolves to. */
const answer =
  (body: string, init: ResponseInit = {}) =>
  () =>
    Promise.resolve(new Response(body, init));

describe('parseWebConfig', () => {
  test('accepts what the broker writes', () => {
    expect(parseWebConfig({ devLogin: true })).toEqual({ devLogin: true });
    expect(parseWebConfig({ devLogin: false, brokerUrl: 'https://auth.example.com', oidc })).toEqual({
      devLogin: false,
      brokerUrl: 'https://auth.example.com',
      oidc,
    });
  });

  test.each([
    [null, 'This page\u2019s config.json is not a JSON object.'],
    [['devLogin'], 'This page\u2019s config.json is not a JSON object.'],
    [{}, 'This page\u2019s config.json is invalid: devLogin is missing.'],
    [{ devLogin: 'yes' }, 'This page\u2019s config.json is invalid: devLogin must be true or false.'],
    [
      { devLogin: true, brokerUrl: 'ftp://files.example.com' },
      'This page\u2019s config.json is invalid: brokerUrl must be an http(s) URL.',
    ],
    [
      { devLogin: true, oidc: 'https://id.example.com' },
      'This page\u2019s config.json is invalid: oidc must be a JSON object.',
    ],
    [
      { devLogin: true, oidc: { ...oidc, clientId: '', token: 'code' } },
      'This page\u2019s config.json is invalid: oidc.clientId must not be empty; oidc.token must be one of "id_token", "access_token".',
    ],
    [
      { devLogin: true, oidc: {} },
      'This page\u2019s config.json is invalid: oidc.issuer is missing; oidc.clientId is missing; oidc.scope is missing; and 1 more problem.',
    ],
  ])('%j is refused: %s', (json, message) => {
    expect(() => parseWebConfig(json)).toThrow(new WebConfigError(`${message} ${FIX}`));
  });

  test('the error is a WebConfigError, so the page shows its message as is', () => {
    expect(() => parseWebConfig({})).toThrow(WebConfigError);
  });
});

describe('loadConfig', () => {
  test('checks the answer and returns the config', async () => {
    const json = JSON.stringify({ devLogin: true, oidc });
    await expect(loadConfig(answer(json, { headers: { 'content-type': 'application/json' } }))).resolves.toEqual({
      devLogin: true,
      oidc,
    });
  });

  test('a missing file names the status and the fix', async () => {
    await expect(loadConfig(answer('not found', { status: 404 }))).rejects.toThrow(
      new WebConfigError(`This page\u2019s config.json is missing (HTTP 404). ${FIX}`),
    );
  });

  test('HTML from a catch-all route is not JSON, and says what it was', async () => {
    const html = answer('<!doctype html><title>app</title>', {
      headers: { 'content-type': 'text/html; charset=utf-8' },
    });
    await expect(loadConfig(html)).rejects.toThrow(
      new WebConfigError(`This page\u2019s config.json is not JSON (it was sent as text/html). ${FIX}`),
    );
  });

  test('an invalid file names the field', async () => {
    await expect(loadConfig(answer('{"devLogin":1}'))).rejects.toThrow(
      new WebConfigError(`This page\u2019s config.json is invalid: devLogin must be true or false. ${FIX}`),
    );
  });

  test("a network failure is fetch's own error, for the page's offline message", async () => {
    const failure = new TypeError('Failed to fetch');
    await expect(loadConfig(() => Promise.reject(failure))).rejects.toBe(failure);
  });
});

describe('brokerBaseUrl', () => {
  test("is config.brokerUrl or the page's origin, with one trailing slash", () => {
    expect(brokerBaseUrl({ devLogin: true }, 'http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787/');
    expect(brokerBaseUrl({ devLogin: true, brokerUrl: 'https://auth.example.com' }, 'http://x')).toBe(
      'https://auth.example.com/',
    );
    expect(brokerBaseUrl({ devLogin: true, brokerUrl: 'https://example.com/keyhole/' }, 'http://x')).toBe(
      'https://example.com/keyhole/',
    );
  });
});
