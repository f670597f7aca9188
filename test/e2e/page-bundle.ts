// Serves a test page: `entry` bundled for the browser by esbuild, behind a blank HTML page, on its
// own loopback port, so the page has an origin of its own (a single-page app's) and calls brokers
// across origins.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PageBundleServer {
  readonly port: number;
  close(): void;
}

export async function servePageBundle(entry: string): Promise<PageBundleServer> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  const bundle = out.outputFiles[0]!.text;
  const server = createServer((req, res) => {
    const js = req.url?.endsWith('.js');
    res.setHeader('content-type', js ? 'text/javascript' : 'text/html');
    res.end(js ? bundle : '<!doctype html><meta charset="utf-8"><script src="/page.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
