// A storage object (client/storage.ts) over the in-memory S3 (fake-s3.ts) and a broker stub, for
// the unit tests of uploads, downloads and their clean-up: no RGW, no network, so StrykerJS can run
// them (test/mutation/groups.mjs). Also the small waiting tools those tests share.
import {
  brokerCredentials,
  createStorage,
  type BrokerCredentialsOptions,
  type StorageError,
  type UploadStore,
} from '../../client/index.js';
import { FakeS3 } from './fake-s3.js';

export const MiB = 1024 * 1024;
export const PREFIX = 'users/p-alice/';

/** The broker's answer: alice's grant on `uploads` under PREFIX, valid 15 min, with `extra` fields. */
export function grantBody(extra: Record<string, unknown> = {}, accessKeyId = 'AKFAKE'): string {
  return JSON.stringify({
    credentials: {
      accessKeyId,
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date(Date.now() + 900_000).toISOString(),
    },
    bucket: 'uploads',
    region: 'eu-west-1',
    prefix: PREFIX,
    identityId: 'p-alice',
    access: ['read', 'write', 'list', 'delete'],
    endpoint: 'http://fake-s3.test',
    forcePathStyle: true,
    ...extra,
  });
}

export interface FakeStorageOptions {
  readonly partSizeBytes?: number;
  readonly queueSize?: number;
  /** Fields of every grant. */
  readonly grant?: Record<string, unknown>;
  readonly s3?: object;
  readonly uploadStore?: UploadStore;
  /** Answers broker request number `n` (from 1) instead of the usual grant. */
  readonly broker?: (n: number) => Response | Promise<Response>;
  /** More options for brokerCredentials (refreshBeforeSeconds, retries...). */
  readonly credentials?: Partial<BrokerCredentialsOptions>;
}

/** A storage object whose S3 is `s3` (a FakeS3 for `uploads`, allowing PREFIX only). */
export function fakeStorage(opts: FakeStorageOptions = {}) {
  const s3 = new FakeS3('uploads', PREFIX);
  let brokerCalls = 0;
  const credentials = brokerCredentials({
    brokerUrl: 'https://broker.test',
    getToken: () => 'jwt',
    ...opts.credentials,
    fetch: (async () => {
      brokerCalls++;
      if (opts.broker) return opts.broker(brokerCalls);
      return new Response(grantBody(opts.grant), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof fetch,
  });
  const storage = createStorage({
    credentials,
    ...(opts.partSizeBytes ? { partSizeBytes: opts.partSizeBytes } : {}),
    ...(opts.queueSize ? { queueSize: opts.queueSize } : {}),
    ...(opts.uploadStore ? { uploadStore: opts.uploadStore } : {}),
    s3: { requestHandler: s3.handler as never, maxAttempts: 1, ...opts.s3 },
  });
  return { s3, storage, credentials, brokerCalls: () => brokerCalls };
}

/** The rejection of `p` (fails the test if it resolves). */
export const caught = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as StorageError,
  );

/** Resolves once `check()` holds, looking every millisecond; the test's timeout bounds the wait. */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 1));
}

/**
 * A valve requests wait at (from a FakeS3 fault) until the test opens it: a request is then known
 * to be in flight for as long as the test wants, without timing.
 */
export class Valve {
  #open = false;
  #waiting = new Set<() => void>();

  /** Requests waiting now. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Resolves when the valve is open (at once if it is). */
  pass(): Promise<void> {
    if (this.#open) return Promise.resolve();
    return new Promise((resolve) => {
      const go = () => {
        this.#waiting.delete(go);
        resolve();
      };
      this.#waiting.add(go);
    });
  }

  open(): void {
    this.#open = true;
    for (const go of [...this.#waiting]) go();
  }

  close(): void {
    this.#open = false;
  }
}

/** The access key id a request was signed with. */
export const signer = (headers: Record<string, string>): string =>
  /Credential=([^/]+)/.exec(headers.authorization ?? '')?.[1] ?? '?';

/** An AbortSignal whose 'abort' listeners are counted as they are added and removed. */
export function countedSignal(): {
  controller: AbortController;
  signal: AbortSignal;
  listeners: Set<unknown>;
  added: () => number;
} {
  const controller = new AbortController();
  const signal = controller.signal;
  const listeners = new Set<unknown>();
  let added = 0;
  const add = signal.addEventListener.bind(signal) as (...args: unknown[]) => void;
  const remove = signal.removeEventListener.bind(signal) as (...args: unknown[]) => void;
  signal.addEventListener = ((type: string, listener: unknown, options?: unknown) => {
    if (type === 'abort') {
      listeners.add(listener);
      added++;
    }
    add(type, listener, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: unknown, options?: unknown) => {
    if (type === 'abort') listeners.delete(listener);
    remove(type, listener, options);
  }) as typeof signal.removeEventListener;
  return { controller, signal, listeners, added: () => added };
}
