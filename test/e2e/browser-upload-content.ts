// The known bytes of the browser upload tests: made in the page (browser-upload-page.ts) and again
// in Node (browser-upload.test.ts), which checks hashes against them. xorshift32, so every part
// of a multipart upload differs from the others.
export function content(size: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, size);
}
