// A real HTTP webhook receiver on 127.0.0.1 that verifies Standard Webhooks signatures twice: with
// the `standardwebhooks` package, and independently with node:crypto per the spec (HMAC-SHA256 of
// "id.timestamp.body" with the base64-decoded secret, sent as "v1,<base64>").
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Both verifiers accepted it. */
  readonly verified: boolean;
  readonly event: any;
}

/** A fresh secret in the spec's format. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The spec's signature check, by hand: true when one of the `v1,` signatures matches. */
export function verifyByHand(secret: string, headers: Record<string, string | undefined>, body: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`)
    .digest();
  return (headers['webhook-signature'] ?? '').split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Status to answer with (after `delayMs`). */
  status = 204;
  delayMs = 0;
  #server: Server | undefined;
  #port = 0;
  readonly #secret: string;

  constructor(secret: string) {
    this.#secret = secret;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hooks/keyhole`;
  }

  /** Listens (again, on the same port after a stop). */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = req.headers as Record<string, string>;
        let byPackage = false;
        try {
          new Webhook(this.#secret).verify(body, headers);
          byPackage = true;
        } catch {
          byPackage = false;
        }
        const verified = byPackage && verifyByHand(this.#secret, headers, body);
        this.received.push({ headers: req.headers, body, verified, event: JSON.parse(body) });
        setTimeout(() => res.writeHead(verified ? this.status : 401).end(), this.delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', resolve));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening: connections are refused until `start()`. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits until `n` requests arrived (or fails after `ms`). */
  async waitFor(n: number, ms = 10_000): Promise<Received[]> {
    const until = Date.now() + ms;
    while (this.received.length < n) {
      if (Date.now() > until) throw new Error(`webhook: ${this.received.length} of ${n} requests after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.received;
  }
}
