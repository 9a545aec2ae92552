// Telling what a byte stream holds from its first bytes (gzip, zstd, a tar's ustar magic), and
// reading those bytes without losing them: `peek` hands back the whole stream to read again.
// Used on whole archives (the one-pass reader, the inspector's drop) and on each layer. Browser-safe.

/** A gzip stream's magic. */
export const isGzip = (head: Uint8Array): boolean => head[0] === 0x1f && head[1] === 0x8b;

/** A zstd frame's magic. */
export const isZstd = (head: Uint8Array): boolean => head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd;

/** A tar header: `ustar` at byte 257. */
export const isTar = (head: Uint8Array): boolean =>
  head.length >= 262 && head[257] === 0x75 && head[258] === 0x73 && head[259] === 0x74 && head[260] === 0x61 && head[261] === 0x72;

/** True when `head` (the first bytes of a file) starts a tar archive or a gzip stream. */
export function looksLikeImageArchive(head: Uint8Array): boolean {
  return isGzip(head) || isTar(head);
}

/** The first `want` bytes of a stream (fewer when it is shorter), and the whole stream again (those bytes first). */
export async function peek(input: AsyncIterable<Uint8Array>, want: number): Promise<{ head: Uint8Array; stream: AsyncIterable<Uint8Array> }> {
  const iterator = input[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < want) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    taken.push(next.value);
    length += next.value.length;
  }
  const head = new Uint8Array(Math.min(length, want));
  let at = 0;
  for (const t of taken) {
    if (at >= head.length) break;
    const part = t.subarray(0, head.length - at);
    head.set(part, at);
    at += part.length;
  }
  const stream = (async function* (): AsyncGenerator<Uint8Array> {
    yield* taken;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  return { head, stream };
}
