import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { WEB_CONFIG_PATH, type WebAppConfig } from '../../client/protocol/web-config.js';
import { ConfigError } from '../errors.js';

// The page validates `/config.json` against the protocol's schema; the server serves that very type.
export type { WebAppConfig } from '../../client/protocol/web-config.js';

/** Options for {@link withWebApp}. */
export interface WebAppOptions {
  /** Directory holding the built app (`index.html` and `assets/`). */
  readonly dir: string;
  /** Served as `/config.json`. */
  readonly config: WebAppConfig;
  /**
   * Origins the page may connect to besides its own, such as the S3 endpoint. `config.brokerUrl`
   * and the OIDC issuer are added by themselves.
   */
  readonly connectOrigins: readonly string[];
}

function cspOrigin(value: string): string {
  // A host wildcard (https://*.s3.eu-west-1.amazonaws.com) is valid CSP but not a valid URL.
  if (/^https:\/\/\*\.[a-z0-9.-]+$/.test(value)) return value;
  try {
    return new URL(value).origin;
  } catch {
    throw new TypeError(`options.connectOrigins entries must be origins like "https://s3.example.com"; got "${value}"`);
  }
}

// Paths the app owns; everything else falls through to the broker (and its JSON 404).
const CONFIG_PATH = `/${WEB_CONFIG_PATH}`;
const APP_PATHS = new Set(['/', '/index.html', CONFIG_PATH, '/favicon.svg']);

/**
 * Serves the built web app next to the broker, same origin, so the page needs no CORS entry.
 * The broker's own strict CSP (`default-src 'none'`) stays on its JSON API; the page gets one that
 * allows its own scripts and connections to the broker, S3 and the OIDC issuer only.
 */
export function withWebApp(broker: Express, options: WebAppOptions): Express {
  const dir = resolve(options.dir);
  if (!existsSync(join(dir, 'index.html'))) {
    throw new TypeError(`options.dir must contain index.html (the built web app); "${dir}" does not`);
  }
  const origins = [
    ...options.connectOrigins,
    ...(options.config.brokerUrl ? [options.config.brokerUrl] : []),
    ...(options.config.oidc ? [options.config.oidc.issuer] : []),
  ];
  const connect = [...new Set(origins.map(cspOrigin))];
  const config = JSON.stringify(options.config);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'", ...connect],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
  const files = express.static(dir, {
    index: 'index.html',
    etag: true,
    setHeaders(res, path) {
      // Vite puts a content hash in every asset name, so those never change.
      res.set('Cache-Control', path.includes(`${dir}/assets/`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (!APP_PATHS.has(req.path) && !req.path.startsWith('/assets/')) return next();
    headers(req, res, () => {
      if (req.path === CONFIG_PATH) {
        res.set('Cache-Control', 'no-cache').type('application/json').send(config);
        return;
      }
      files(req, res, next);
    });
  });
  app.use(broker);
  return app;
}

/**
 * Reads the web app's settings from the environment: `KEYHOLE_WEB_DIR` switches it on;
 * `KEYHOLE_WEB_OIDC_ISSUER`, `KEYHOLE_WEB_OIDC_CLIENT_ID`, `KEYHOLE_WEB_OIDC_SCOPE` and
 * `KEYHOLE_WEB_OIDC_TOKEN` configure OpenID Connect sign-in; `KEYHOLE_WEB_CONNECT_SRC` adds
 * origins the page may call (an OIDC token endpoint on another host, say). Throws ConfigError naming the variable.
 */
export function webAppFromEnv(
  env: NodeJS.ProcessEnv,
  broker: { devLogin: boolean; s3Endpoint?: string | undefined; region: string },
): WebAppOptions | undefined {
  const dir = env.KEYHOLE_WEB_DIR;
  if (!dir) return undefined;
  if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(join(dir, 'index.html'))) {
    throw new ConfigError(
      'KEYHOLE_WEB_DIR',
      `expected a directory with index.html, such as client/web/dist (got "${dir}")`,
    );
  }
  const issuer = env.KEYHOLE_WEB_OIDC_ISSUER || undefined;
  const clientId = env.KEYHOLE_WEB_OIDC_CLIENT_ID || undefined;
  let oidc: WebAppConfig['oidc'];
  if (issuer !== undefined || clientId !== undefined) {
    if (issuer === undefined)
      throw new ConfigError('KEYHOLE_WEB_OIDC_ISSUER', 'is required with KEYHOLE_WEB_OIDC_CLIENT_ID');
    if (clientId === undefined)
      throw new ConfigError('KEYHOLE_WEB_OIDC_CLIENT_ID', 'is required with KEYHOLE_WEB_OIDC_ISSUER');
    try {
      if (!/^https?:$/.test(new URL(issuer).protocol)) throw new Error('scheme');
    } catch {
      throw new ConfigError('KEYHOLE_WEB_OIDC_ISSUER', `expected an absolute https URL (got "${issuer}")`);
    }
    const token = env.KEYHOLE_WEB_OIDC_TOKEN || 'id_token';
    if (token !== 'id_token' && token !== 'access_token') {
      throw new ConfigError('KEYHOLE_WEB_OIDC_TOKEN', `expected "id_token" or "access_token" (got "${token}")`);
    }
    oidc = { issuer, clientId, scope: env.KEYHOLE_WEB_OIDC_SCOPE || 'openid', token };
  }
  // Virtual-hosted AWS addresses are <bucket>.s3.<region>.amazonaws.com.
  const connectOrigins = broker.s3Endpoint
    ? [broker.s3Endpoint]
    : [`https://s3.${broker.region}.amazonaws.com`, `https://*.s3.${broker.region}.amazonaws.com`];
  if (oidc) connectOrigins.push(oidc.issuer);
  for (const extra of (env.KEYHOLE_WEB_CONNECT_SRC ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    try {
      connectOrigins.push(cspOrigin(extra));
    } catch {
      throw new ConfigError('KEYHOLE_WEB_CONNECT_SRC', `expected a comma list of origins (got "${extra}")`);
    }
  }
  return { dir, config: { devLogin: broker.devLogin, ...(oidc ? { oidc } : {}) }, connectOrigins };
}
