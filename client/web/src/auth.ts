// Sign-in: the broker's dev login (local only) or OpenID Connect, authorization code + PKCE.
// The bearer token lives in sessionStorage: it survives a reload, not a closed tab.
import type { WebAppConfig } from '../../protocol/web-config.js';
import { SignInError } from './errors.js';

/** The OpenID Connect part of config.json, as the broker writes it. */
export type OidcConfig = NonNullable<WebAppConfig['oidc']>;

export interface Session {
  /** Who is signed in, for display. */
  readonly name: string;
  getToken(options: { forceRefresh: boolean }): Promise<string>;
}

const STORED = 'keyhole.session';
const PENDING = 'keyhole.oidc.pending';

type Stored =
  | { kind: 'dev'; name: string; token: string }
  | { kind: 'oidc'; name: string; token: string; refreshToken?: string; tokenEndpoint: string };

function save(stored: Stored): void {
  sessionStorage.setItem(STORED, JSON.stringify(stored));
}

/** Increased by signOut(): a Session from before it no longer hands out, renews or saves its token. */
let signOuts = 0;

/**
 * Forgets the saved session and disables every Session object handed out so far: their getToken
 * throws, so a storage object or request that outlives the sign-out can neither fetch credentials
 * with the old token nor write it back to sessionStorage by renewing it. Call `storage.signOut()`
 * first to drop the S3 client, credentials and uploads.
 */
export function signOut(): void {
  signOuts++;
  sessionStorage.removeItem(STORED);
}

async function post(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, cache: 'no-store' });
  } catch {
    throw new SignInError(
      `Can\u2019t reach ${what}. Check your connection or that the server is running, then try again.`,
    );
  }
}

async function mintDevToken(brokerUrl: string, name: string): Promise<string> {
  const res = await post(
    new URL('v1/dev/token', brokerUrl).href,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sub: name }) },
    'the Keyhole broker',
  );
  if (res.status === 404) throw new SignInError('Dev login is not enabled on this broker (KEYHOLE_DEV_LOGIN=1).');
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
  if (!res.ok || !body.token) {
    throw new SignInError(`Sign-in refused: ${body.error?.message ?? `the broker answered HTTP ${res.status}`}`);
  }
  return body.token;
}

function sessionFrom(stored: Stored, brokerUrl: string): Session {
  let current = stored;
  const epoch = signOuts;
  const signedOut = () => new SignInError('Signed out. Sign in again.');
  return {
    name: stored.name,
    async getToken({ forceRefresh }) {
      if (epoch !== signOuts) throw signedOut();
      if (!forceRefresh) return current.token;
      // The broker said 401: renew once if we can; otherwise the broker's 401 reaches the page.
      if (current.kind === 'dev') {
        current = { ...current, token: await mintDevToken(brokerUrl, current.name) };
      } else if (current.refreshToken) {
        const tokens = await exchange(current.tokenEndpoint, {
          grant_type: 'refresh_token',
          refresh_token: current.refreshToken,
        });
        const token = tokens.id_token ?? tokens.access_token;
        if (token)
          current = { ...current, token, ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}) };
      }
      // Signed out while renewing: saving now would bring the old session back on the next reload.
      if (epoch !== signOuts) throw signedOut();
      save(current);
      return current.token;
    },
  };
}

/** Signs in through the broker's dev login: any name, no password. */
export async function devSignIn(brokerUrl: string, name: string): Promise<Session> {
  const trimmed = name.trim();
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(trimmed)) {
    throw new SignInError('Use 1 to 64 letters, digits, ".", "_", "-" or "@" for the name.');
  }
  const stored: Stored = { kind: 'dev', name: trimmed, token: await mintDevToken(brokerUrl, trimmed) };
  save(stored);
  return sessionFrom(stored, brokerUrl);
}

/** The session saved in this tab, if any. */
export function restoreSession(brokerUrl: string): Session | undefined {
  const raw = sessionStorage.getItem(STORED);
  if (!raw) return undefined;
  try {
    return sessionFrom(JSON.parse(raw) as Stored, brokerUrl);
  } catch {
    signOut();
    return undefined;
  }
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
}

async function discover(oidc: OidcConfig): Promise<Discovery> {
  const url = `${oidc.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let doc: Partial<Discovery>;
  try {
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) throw new Error(String(res.status));
    doc = (await res.json()) as Partial<Discovery>;
  } catch {
    throw new SignInError(`Can't reach the sign-in provider at ${new URL(oidc.issuer).host}.`);
  }
  if (!doc.authorization_endpoint || !doc.token_endpoint || doc.issuer !== oidc.issuer) {
    throw new SignInError('The sign-in provider\u2019s configuration does not match the configured issuer.');
  }
  return doc as Discovery;
}

interface TokenResponse {
  readonly id_token?: string;
  readonly access_token?: string;
  readonly refresh_token?: string;
  readonly error?: string;
  readonly error_description?: string;
}

async function exchange(tokenEndpoint: string, params: Record<string, string>): Promise<TokenResponse> {
  const res = await post(
    tokenEndpoint,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    },
    'the sign-in provider',
  );
  const body = (await res.json().catch(() => ({}))) as TokenResponse;
  if (!res.ok) throw new SignInError(`Sign-in failed: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}`);
  return body;
}

function redirectUri(): string {
  return location.origin + location.pathname;
}

/** Sends the browser to the provider's sign-in page. */
export async function startOidcSignIn(oidc: OidcConfig): Promise<void> {
  const doc = await discover(oidc);
  const verifier = randomString();
  const state = randomString();
  const nonce = randomString();
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(PENDING, JSON.stringify({ state, nonce, verifier, tokenEndpoint: doc.token_endpoint }));
  const url = new URL(doc.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: oidc.clientId,
    redirect_uri: redirectUri(),
    scope: oidc.scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.href);
}

function claimsOf(jwt: string): Record<string, unknown> {
  try {
    const part = jwt.split('.')[1] ?? '';
    const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Finishes a redirect back from the provider (`?code=&state=`), or returns undefined when the URL
 * carries none. The token's signature is the broker's to verify; the page checks state and nonce.
 */
export async function completeOidcSignIn(oidc: OidcConfig): Promise<Session | undefined> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return undefined;
  history.replaceState(null, '', redirectUri());
  const pendingRaw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (params.has('error')) {
    throw new SignInError(`Sign-in failed: ${params.get('error_description') ?? params.get('error')}`);
  }
  const pending = pendingRaw
    ? (JSON.parse(pendingRaw) as { state: string; nonce: string; verifier: string; tokenEndpoint: string })
    : undefined;
  if (!pending || pending.state !== params.get('state')) {
    throw new SignInError('Sign-in failed: the answer does not match the request from this tab. Try again.');
  }
  const tokens = await exchange(pending.tokenEndpoint, {
    grant_type: 'authorization_code',
    code: params.get('code') ?? '',
    redirect_uri: redirectUri(),
    client_id: oidc.clientId,
    code_verifier: pending.verifier,
  });
  if (!tokens.id_token || claimsOf(tokens.id_token).nonce !== pending.nonce) {
    throw new SignInError(
      'Sign-in failed: the provider\u2019s ID token is missing or was not issued for this request.',
    );
  }
  const token = oidc.token === 'access_token' ? tokens.access_token : tokens.id_token;
  if (!token) throw new SignInError('Sign-in failed: the provider returned no access token.');
  const claims = claimsOf(tokens.id_token);
  const name = String(claims.preferred_username ?? claims.email ?? claims.sub ?? 'signed in');
  const stored: Stored = {
    kind: 'oidc',
    name,
    token,
    tokenEndpoint: pending.tokenEndpoint,
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
  };
  save(stored);
  return sessionFrom(stored, '');
}
