// Builds the web app once per test file and serves it beside a real broker (dev login, local
// RGW) on port 0, exactly as `npm start` composes them.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { chromium, type Browser } from 'playwright-core';
import { createBroker, createLogger, type BrokerOptions } from '../../server/index.js';
import { withWebApp, type WebAppConfig } from '../../server/http/web-app.js';
import { chromiumLaunchOptions } from '../helpers/chromium.js';
import { stack, stackVendor } from '../helpers/stack.js';

export { CHROMIUM_ARGS } from '../helpers/chromium.js';

/** Runs `vite build` for client/web into a fresh temporary directory; returns it. */
export async function buildWebApp(): Promise<{ dir: string; remove(): void }> {
  const { build } = await import('vite');
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-web-'));
  await build({
    configFile: fileURLToPath(new URL('../../client/web/vite.config.ts', import.meta.url)),
    build: { outDir: dir, emptyOutDir: true },
    logLevel: 'error',
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

async function listen(app: Express): Promise<{ server: Server; url: string }> {
  const server = await new Promise<Server>((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** Broker + web app on one origin, like `npm start`. */
export async function startWebBroker(
  dir: string,
  overrides: Partial<BrokerOptions> = {},
  config: Partial<WebAppConfig> = {},
): Promise<WebServer> {
  const s = stack();
  const broker = createBroker({
    grants: [{ bucket: s.bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] }],
    region: s.region,
    s3Endpoint: s.s3Endpoint,
    devLogin: true,
    rateLimit: false,
    logger: createLogger('silent'),
    vendor: stackVendor(),
    ...overrides,
  });
  const app = withWebApp(broker, { dir, config: { devLogin: true, ...config }, connectOrigins: [s.s3Endpoint] });
  const { server, url } = await listen(app);
  return { url, close: closer(server) };
}

/** A URL where nothing listens: a port that was just bound and released. */
export async function deadUrl(): Promise<string> {
  const { server, url } = await listen(express());
  await closer(server)();
  return url;
}

/** What a web test file starts once: the built app, a broker serving it, and Chromium. */
export interface WebRig {
  /** The built app's directory (removed by `close`). */
  readonly dir: string;
  readonly server: WebServer;
  readonly browser: Browser;
  /** Closes Chromium and the server, and removes the build. */
  close(): Promise<void>;
}

/**
 * Builds the web app, serves it beside a broker ({@link startWebBroker} with `overrides` and
 * `config`) and launches Chromium; if a part fails to start, the parts already started are closed.
 */
export async function startWebRig(
  overrides: Partial<BrokerOptions> = {},
  config: Partial<WebAppConfig> = {},
): Promise<WebRig> {
  const web = await buildWebApp();
  let server: WebServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.close();
    web.remove();
  };
  try {
    server = await startWebBroker(web.dir, overrides, config);
    browser = await chromium.launch(chromiumLaunchOptions());
    return { dir: web.dir, server, browser, close };
  } catch (err) {
    await close();
    throw err;
  }
}
