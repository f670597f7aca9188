// The HTTPS host:port Amplify should use for the local RGW. RGW's own TLS endpoint is used when
// its certificate names `<bucket>.localhost` (every stack created or restarted since
// infra/local/up.sh started issuing that name). A stack still running with an older certificate
// gets a TLS front on port 0 that serves the reissued certificate (same local CA, same key) and
// forwards bytes unchanged to RGW's plain port, so RGW still sees `Host: <bucket>.localhost`.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import * as tls from 'node:tls';
import { stack } from '../helpers/stack.js';

export interface AmplifyEndpoint {
  /** `host:port`, for Amplify's `customEndpoint` option. */
  readonly host: string;
  readonly via: 'rgw' | 'front';
  close(): Promise<void>;
}

function rgwCertNamesBucket(port: number, servername: string, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function amplifyEndpoint(): Promise<AmplifyEndpoint> {
  const s = stack();
  const tlsUrl = new URL(s.s3TlsEndpoint);
  const ca = readFileSync(s.caCertFile);
  if (await rgwCertNamesBucket(Number(tlsUrl.port), `${s.bucket}.localhost`, ca)) {
    return { host: `localhost:${tlsUrl.port}`, via: 'rgw', close: async () => {} };
  }
  const dir = dirname(s.caCertFile);
  const plain = new URL(s.s3Endpoint);
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(
    { key: readFileSync(join(dir, 'rgw.key')), cert: readFileSync(join(dir, 'rgw.crt')) },
    (client) => {
      const upstream = net.connect(Number(plain.port), plain.hostname);
      sockets.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream).pipe(client);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `localhost:${port}`,
    via: 'front',
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Chromium trusts the local RGW by pinning the public key of its certificate (the key is kept
 * when up.sh reissues the certificate): base64 SHA-256 of the SubjectPublicKeyInfo.
 */
export function localSpkiHash(caCertFile: string): string {
  const leaf = new X509Certificate(readFileSync(join(dirname(caCertFile), 'rgw.crt')));
  const spki = leaf.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
