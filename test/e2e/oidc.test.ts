// OpenID Connect sign-in in the web app (authorization code + PKCE), in Chromium, against a
// minimal provider written here (discovery, authorize, token) and a broker that trusts only it.
// The provider is ours, so this shows the page's side of the protocol; real providers'
// quirks (consent screens, refresh token rotation, logout) are not covered.
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshSubject } from '../helpers/broker.js';
import { testIssuer, type TestIssuer } from '../helpers/jwt.js';
import { chromiumLaunchOptions } from '../helpers/chromium.js';
import { buildWebApp, startWebBroker, type WebServer } from './web-server.js';

const CLIENT_ID = 'keyhole-web';

interface Provider {
  readonly issuer: string;
  /** Query of each /authorize request. */
  readonly authorizeRequests: Record<string, string>[];
  /** Form of each /token request. */
  readonly tokenRequests: Record<string, string>[];
  /** Sign the next ID tokens with this nonce instead of the requested one. */
  forceNonce: string | undefined;
  sub: string;
  close(): Promise<void>;
}

async function startProvider(): Promise<{ provider: Provider; signer: Promise<TestIssuer> }> {
  const app = express();
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signer = testIssuer(issuer, CLIENT_ID);
  const codes = new Map<string, { challenge: string; nonce: string; redirect: string }>();
  const provider: Provider = {
    issuer,
    authorizeRequests: [],
    tokenRequests: [],
    forceNonce: undefined,
    sub: '',
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.set('Access-Control-Allow-Origin', '*').json({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
  });
  // A user who is already signed in at the provider: straight back with a code.
  app.get('/authorize', (req, res) => {
    const q = req.query as Record<string, string>;
    provider.authorizeRequests.push(q);
    const code = randomBytes(16).toString('hex');
    codes.set(code, { challenge: q.code_challenge!, nonce: q.nonce!, redirect: q.redirect_uri! });
    const back = new URL(q.redirect_uri!);
    back.search = new URLSearchParams({ code, state: q.state! }).toString();
    res.redirect(302, back.href);
  });
  app.options('/token', (_req, res) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'content-type' }).sendStatus(204);
  });
  app.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
    res.set('Access-Control-Allow-Origin', '*');
    const form = req.body as Record<string, string>;
    provider.tokenRequests.push(form);
    const grant = codes.get(form.code ?? '');
    codes.delete(form.code ?? '');
    const verifier = createHash('sha256')
      .update(form.code_verifier ?? '')
      .digest('base64url');
    if (
      !grant ||
      grant.challenge !== verifier ||
      grant.redirect !== form.redirect_uri ||
      form.client_id !== CLIENT_ID
    ) {
      res.status(400).json({ error: 'invalid_grant', error_description: 'code, verifier or redirect_uri mismatch' });
      return;
    }
    const idToken = await (
      await signer
    ).sign({ sub: provider.sub, nonce: provider.forceNonce ?? grant.nonce, preferred_username: 'Olivia' });
    res.json({ id_token: idToken, access_token: 'opaque', token_type: 'Bearer', expires_in: 300 });
  });
  return { provider, signer };
}

let web: { dir: string; remove(): void };
let provider: Provider;
let broker: WebServer;
let browser: Browser;

beforeAll(async () => {
  web = await buildWebApp();
  const started = await startProvider();
  provider = started.provider;
  const signer = await started.signer;
  broker = await startWebBroker(
    web.dir,
    { devLogin: false, issuers: [{ issuer: provider.issuer, audience: CLIENT_ID, publicKey: signer.publicKeyPem }] },
    {
      devLogin: false,
      oidc: { issuer: provider.issuer, clientId: CLIENT_ID, scope: 'openid profile', token: 'id_token' },
    },
  );
  browser = await chromium.launch(chromiumLaunchOptions());
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await broker?.close();
  await provider?.close();
  web?.remove();
});

describe('OIDC sign-in in the web app', () => {
  test('authorization code + PKCE: signs in, gets a grant for the token subject, uploads', async () => {
    provider.sub = freshSubject('olivia');
    provider.forceNonce = undefined;
    const page = await browser.newPage();
    await page.goto(broker.url);
    const button = page.locator(`button:has-text("Sign in with 127.0.0.1:")`);
    await button.waitFor();
    expect(await page.locator('#dev-name').count()).toBe(0);
    await button.click();
    await page.waitForSelector('[data-testid=prefix]');

    expect(await page.textContent('[data-testid=user]')).toBe('Olivia');
    expect(await page.textContent('[data-testid=prefix]')).toBe(`users/${provider.sub}/`);
    // The code and state do not stay in the address bar.
    expect(page.url()).toBe(`${broker.url}/`);

    const auth = provider.authorizeRequests.at(-1)!;
    expect(Object.keys(auth).sort()).toEqual([
      'client_id',
      'code_challenge',
      'code_challenge_method',
      'nonce',
      'redirect_uri',
      'response_type',
      'scope',
      'state',
    ]);
    expect(auth).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${broker.url}/`,
      scope: 'openid profile',
      code_challenge_method: 'S256',
    });
    expect(auth.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const token = provider.tokenRequests.at(-1)!;
    expect(token.grant_type).toBe('authorization_code');
    expect(token.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);

    await page.setInputFiles('#file-input', { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
    await page.waitForSelector('li.upload[data-name="hello.txt"][data-state=done]');
    await page.waitForSelector('[data-testid=files] li[data-key="hello.txt"]');
    await page.close();
  });

  test('an ID token with another nonce is refused by the page', async () => {
    provider.sub = freshSubject('mallory');
    provider.forceNonce = 'not-the-one-we-sent';
    const page = await browser.newPage();
    await page.goto(broker.url);
    await page.click('button:has-text("Sign in with 127.0.0.1:")');
    await page.waitForSelector('#banner:not([hidden])');
    expect(await page.textContent('#banner .banner-text')).toBe(
      'Sign-in failed: the provider\u2019s ID token is missing or was not issued for this request.',
    );
    expect(await page.locator('[data-testid=prefix]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('keyhole.session'))).toBe(null);
    await page.close();
  });
});
