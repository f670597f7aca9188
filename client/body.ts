import type { UploadBody } from './storage.js';

// lib-storage accepts bytes, strings, Blobs, web ReadableStreams and Node Readables, but not a
// plain async iterable (e.g. an async generator). Those are adapted to a ReadableStream here.
export function toUploadBody(body: UploadBody): unknown {
  if (body instanceof Uint8Array || typeof body === 'string') return body;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body;
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return body;
  const nodeLike = body as { pipe?: unknown; on?: unknown };
  if (typeof nodeLike.pipe === 'function' && typeof nodeLike.on === 'function') return body;
  const iterable = body as AsyncIterable<Uint8Array>;
  if (typeof iterable[Symbol.asyncIterator] !== 'function') {
    throw new TypeError('body must be a Uint8Array, string, Blob, ReadableStream or async iterable of Uint8Array');
  }
  const iterator = iterable[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}
