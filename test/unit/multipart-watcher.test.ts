// client/multipart-cleanup.ts on its own: which calls the watcher counts, which uploads it reports
// open, when settled() resolves, and what release() forgets. The storage-level behaviour (an
// aborted or failed upload leaves nothing open) is in storage-fake-s3.test.ts. No RGW.
import { describe, expect, it } from 'vitest';
import { MultipartWatcher } from '../../client/multipart-cleanup.js';

type Next = (args: unknown) => Promise<{ output: unknown }>;
type Middleware = (next: Next, context: { commandName?: string }) => (args: { input: unknown }) => Promise<unknown>;

function installed(watcher: MultipartWatcher) {
  const added: { middleware: Middleware; options: unknown }[] = [];
  watcher.plugin.applyToStack({
    add: (middleware: Middleware, options: unknown) => added.push({ middleware, options }),
  } as never);
  expect(added).toHaveLength(1);
  const { middleware, options } = added[0]!;
  /** Sends one command through the watcher's middleware; the answer is `output`. */
  const send = (commandName: string, input: Record<string, unknown>, output: Record<string, unknown> = {}) =>
    middleware(async () => ({ output }), { commandName })({ input });
  return { middleware, options, send };
}

function deferred() {
  let resolve!: (v: { output: unknown }) => void;
  const promise = new Promise<{ output: unknown }>((r) => (resolve = r));
  return { promise, resolve };
}

describe('MultipartWatcher', () => {
  it('runs in the initialize step with high priority, under its own name', () => {
    expect(installed(new MultipartWatcher()).options).toStrictEqual({
      step: 'initialize',
      name: 'keyholeMultipartWatcher',
      priority: 'high',
    });
  });

  it('an upload created for the watched key is open until completed or aborted', async () => {
    const watcher = new MultipartWatcher();
    const { send } = installed(watcher);
    const h = watcher.watch('b', 'k');
    await send('CreateMultipartUploadCommand', { Bucket: 'b', Key: 'k' }, { UploadId: 'u1' });
    await send('CreateMultipartUploadCommand', { Bucket: 'b', Key: 'k' }, { UploadId: 'u2' });
    expect(h.open()).toStrictEqual(['u1', 'u2']);
    await send('CompleteMultipartUploadCommand', { Bucket: 'b', Key: 'k', UploadId: 'u1' });
    expect(h.open()).toStrictEqual(['u2']);
    await send('AbortMultipartUploadCommand', { Bucket: 'b', Key: 'k', UploadId: 'u2' });
    expect(h.open()).toStrictEqual([]);
  });

  it('only a CreateMultipartUpload opens an upload, even if another answer carries an UploadId', async () => {
    const watcher = new MultipartWatcher();
    const { send } = installed(watcher);
    const h = watcher.watch('b', 'k');
    await send('UploadPartCommand', { Bucket: 'b', Key: 'k', UploadId: 'u9' }, { UploadId: 'u9' });
    expect(h.open()).toStrictEqual([]);
  });

  it('a call without a bucket or without a key is never counted for a watched key', async () => {
    const watcher = new MultipartWatcher();
    const { send } = installed(watcher);
    // Watches whose ids are what a missing Bucket or Key would be written as.
    const noBucket = watcher.watch('undefined', 'k');
    const noKey = watcher.watch('b', 'undefined');
    await send('CreateMultipartUploadCommand', { Key: 'k' }, { UploadId: 'u1' });
    await send('CreateMultipartUploadCommand', { Bucket: 'b' }, { UploadId: 'u2' });
    expect(noBucket.open()).toStrictEqual([]);
    expect(noKey.open()).toStrictEqual([]);
  });

  it('two uploads of one key share one watch: each handle sees the other’s uploads, and it lasts until both release', async () => {
    const watcher = new MultipartWatcher();
    const { send } = installed(watcher);
    const h1 = watcher.watch('b', 'k');
    const h2 = watcher.watch('b', 'k');
    await send('CreateMultipartUploadCommand', { Bucket: 'b', Key: 'k' }, { UploadId: 'u1' });
    expect(h1.open()).toStrictEqual(['u1']);
    expect(h2.open()).toStrictEqual(['u1']);
    h1.release();
    await send('CreateMultipartUploadCommand', { Bucket: 'b', Key: 'k' }, { UploadId: 'u2' });
    expect(h2.open()).toStrictEqual(['u1', 'u2']);
  });

  it('after the last release the key is forgotten: calls are no longer counted, a new watch starts empty', async () => {
    const watcher = new MultipartWatcher();
    const { send } = installed(watcher);
    const h = watcher.watch('b', 'k');
    await send('CreateMultipartUploadCommand', { Bucket: 'b', Key: 'k' }, { UploadId: 'u1' });
    h.release();
    await send('CreateMultipartUploadCommand', { Bucket: 'b', Key: 'k' }, { UploadId: 'u2' });
    expect(watcher.watch('b', 'k').open()).toStrictEqual([]);
  });

  it('settled() waits for a call started in the tick after the last one settled (lib-storage’s own abort)', async () => {
    const watcher = new MultipartWatcher();
    const { middleware } = installed(watcher);
    const h = watcher.watch('b', 'k');
    const first = deferred();
    const second = deferred();
    const p1 = middleware(() => first.promise, { commandName: 'UploadPartCommand' })({
      input: { Bucket: 'b', Key: 'k' },
    });
    let settled = false;
    const s = h.settled().then(() => {
      settled = true;
    });
    first.resolve({ output: {} });
    await p1;
    // Still before settled()'s one-tick wait is over: another call for the key starts.
    const p2 = middleware(() => second.promise, { commandName: 'AbortMultipartUploadCommand' })({
      input: { Bucket: 'b', Key: 'k', UploadId: 'u1' },
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    second.resolve({ output: {} });
    await p2;
    await s;
    expect(settled).toBe(true);
  });
});
