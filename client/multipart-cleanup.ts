import type { Pluggable } from '@smithy/types';

// lib-storage's Upload.done() rejects the moment its AbortSignal fires, while parts are still in
// flight and before its own AbortMultipartUpload has been sent, and it never aborts an upload
// whose CreateMultipartUpload returned after the abort. So the storage object watches the S3
// calls for each key itself: after a failure it waits until they have settled and then aborts
// every multipart upload that was created and neither completed nor aborted.

interface Watch {
  refs: number;
  inflight: number;
  readonly open: Set<string>;
  readonly waiters: Set<() => void>;
}

const STARTS = 'CreateMultipartUploadCommand';
const ENDS = new Set(['CompleteMultipartUploadCommand', 'AbortMultipartUploadCommand']);

export class MultipartWatcher {
  readonly #watches = new Map<string, Watch>();

  /** SDK plugin that feeds the watcher; add once to the S3 client. */
  readonly plugin: Pluggable<any, any> = {
    applyToStack: (stack) => {
      stack.add(
        (next, context) => async (args) => {
          const input = args.input as { Bucket?: string; Key?: string; UploadId?: string };
          const watch = input.Bucket && input.Key ? this.#watches.get(`${input.Bucket}\u0000${input.Key}`) : undefined;
          if (!watch) return next(args);
          watch.inflight++;
          try {
            const result = await next(args);
            const command = context.commandName as string;
            const output = result.output as { UploadId?: string };
            if (command === STARTS && output.UploadId) watch.open.add(output.UploadId);
            if (ENDS.has(command) && input.UploadId) watch.open.delete(input.UploadId);
            return result;
          } catch (err) {
            // An abort that finds the upload already gone has done its job.
            if (context.commandName === 'AbortMultipartUploadCommand' && input.UploadId) {
              const name = (err as { name?: string }).name;
              if (name === 'NoSuchUpload') watch.open.delete(input.UploadId);
            }
            throw err;
          } finally {
            watch.inflight--;
            if (watch.inflight === 0) for (const wake of watch.waiters) wake();
          }
        },
        { step: 'initialize', name: 'keyholeMultipartWatcher', priority: 'high' },
      );
    },
  };

  /** Starts watching one bucket/key; call `release()` when the upload is over. */
  watch(bucket: string, key: string) {
    const id = `${bucket}\u0000${key}`;
    let watch = this.#watches.get(id);
    if (!watch) {
      watch = { refs: 0, inflight: 0, open: new Set(), waiters: new Set() };
      this.#watches.set(id, watch);
    }
    watch.refs++;
    const w = watch;
    return {
      /** Resolves once no S3 call for this key has been in flight for one tick. */
      settled: async (): Promise<void> => {
        for (;;) {
          if (w.inflight > 0) {
            await new Promise<void>((resolve) => {
              const wake = () => {
                w.waiters.delete(wake);
                resolve();
              };
              w.waiters.add(wake);
            });
          }
          // lib-storage sends its own abort right after its last part settles: give it that tick.
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (w.inflight === 0) return;
        }
      },
      /** Counts an upload created earlier (one being resumed) as open, so a failure aborts it too. */
      adopt: (uploadId: string): void => void w.open.add(uploadId),
      /** Multipart uploads created and not yet completed or aborted. */
      open: (): string[] => [...w.open],
      release: (): void => {
        w.waiters.clear();
        if (--w.refs === 0) this.#watches.delete(id);
      },
    };
  }
}
