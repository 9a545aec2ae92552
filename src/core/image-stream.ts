// The one-pass image reader: a saved image archive (docker-archive or oci-archive, optionally
// gzip-compressed as a whole) read once, front to back, from a stream: a browser File's stream(),
// a pipe. A tar cannot be reordered, and manifest.json (which says which members are the layers,
// and in what order) often comes after the layers (Docker 20.10 writes it last). So each member
// is kept as what matters of it (stream-member.ts): JSON documents and small members whole, each
// layer as a record of its entries and the few content bytes the tree keeps (layer-record.ts),
// anything else by name and size. Once the archive has ended, the chosen image's recorded layers
// are replayed in order into the tree, exactly as the random-access reader (image-archive.ts)
// applies them. Memory: the records of every layer in the archive, within the bounds of
// stream-budget.ts; the archive itself is never held. Browser-safe.
import { findMember, memberKey, memberToRead } from './archive-members.js';
import { isGzip, isZstd, peek } from './archive-sniff.js';
import { loadImageWith } from './image-load.js';
import { ImageTreeError, type ImageTree } from './image-tree.js';
import { ImageError, type BlobStore, type Gunzip, type LoadedImage, type LoadImageOptions } from './image-types.js';
import { applyLayer } from './layer-apply.js';
import { layerBytes, noGunzipError, zstdLayerError } from './layer-compression.js';
import { replay } from './layer-record.js';
import { Budget } from './stream-budget.js';
import { MemberSink, type StreamMember } from './stream-member.js';
import { STREAM_CONTENT, TarError, TarReader, type TarHeader } from './tar.js';

/**
 * Reads the image (the one named by `options.ref` in a multi-image archive) from an archive's
 * bytes, in one pass. A gzip-compressed archive is decompressed with `options.gunzip` on the way.
 */
export async function loadImageStream(input: AsyncIterable<Uint8Array>, name: string, options: LoadImageOptions = {}): Promise<LoadedImage> {
  const { head, stream } = await peek(input, 4);
  // Bytes of the file read so far (a decompressor's error says how far into the file it came).
  let position = 0;
  const counted = (async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) {
      position += chunk.length;
      yield chunk;
    }
  })();
  let bytes: AsyncIterable<Uint8Array> = counted;
  const gzipped = isGzip(head);
  if (gzipped) {
    if (!options.gunzip) throw new ImageError(`${name}: a gzip-compressed archive, but no gzip decompressor is available`);
    bytes = options.gunzip(counted);
  } else if (isZstd(head)) {
    throw new ImageError(`${name}: a zstd-compressed archive: decompress it first (zstd -d ${name})`);
  }
  const members = new Map<string, StreamMember>();
  const budget = new Budget();
  let sink: MemberSink | null = null;
  const touched = new Set<MemberSink>();
  const ended: MemberSink[] = [];
  const outer = new TarReader({
    entry(h: TarHeader) {
      budget.member(h);
      const member: StreamMember = { type: h.type, linkname: h.linkname, size: h.size, kept: { kind: 'other' } };
      const key = memberKey(h.name);
      if (key !== null) members.set(key, member);
      sink = null;
      if (h.type !== 'file') return 0;
      if (h.size === 0) {
        member.kept = { kind: 'bytes', bytes: new Uint8Array(0), fill: 0 };
        return 0;
      }
      sink = new MemberSink(member, budget, options.gunzip);
      return STREAM_CONTENT;
    },
    data(_h, chunk) {
      sink!.data(chunk);
      touched.add(sink!);
    },
    content() {
      if (sink) ended.push(sink);
      sink = null;
    },
  });
  try {
    for await (const chunk of bytes) {
      outer.push(chunk);
      // Backpressure: each decompressor takes what this chunk gave it before the next is read.
      for (const s of touched) await s.settle();
      touched.clear();
      while (ended.length > 0) await ended.shift()!.finish();
      if (outer.ended) break;
    }
    outer.end();
  } catch (err) {
    for (const s of [...touched, ...ended]) s.abandon();
    (sink as MemberSink | null)?.abandon();
    if (err instanceof TarError) throw new ImageError(`${name}: ${err.message} (at byte ${err.offset}${gzipped ? ' of the decompressed archive' : ''})`);
    if (err instanceof ImageTreeError || err instanceof ImageError) throw new ImageError(`${name}: ${err.message}`);
    throw new ImageError(`${name}: cannot read the archive: ${(err as Error)?.message?.split('\n')[0] ?? String(err)} (after ${position} bytes of the file)`);
  }
  if (members.size === 0) throw new ImageError(`${name}: not a tar archive (no members)`);

  const store: BlobStore = {
    name,
    size: (path) => findMember(members, path)?.size ?? null,
    async read(path, max) {
      const m = memberToRead(name, members, path, max);
      if (m.kept.kind !== 'bytes') throw new ImageError(`${name}: '${path}' is not a JSON document (${m.size} bytes of ${m.kept.kind === 'layer' ? 'a layer' : 'something else'})`);
      return m.kept.bytes;
    },
    async *stream(path) {
      const m = findMember(members, path);
      if (m?.kept.kind === 'bytes') yield m.kept.bytes;
      else throw new ImageError(`${name}: '${path}' was not kept`);
    },
  };
  return loadImageWith(store, options, async (tree, path, label) => {
    const m = findMember(members, path)!;
    const kept = m.kept;
    switch (kept.kind) {
      case 'bytes':
        return applyBytes(tree, store, path, label, options.gunzip);
      case 'zstd':
        throw zstdLayerError(label);
      case 'no-gunzip':
        throw noGunzipError(label);
      case 'other':
        throw new ImageError(`${label}: not a tar layer (neither gzip nor tar)`);
      case 'layer':
        replay(tree, kept, label);
    }
  });
}

/** A small layer kept as bytes: read as the random-access reader reads it. */
async function applyBytes(tree: ImageTree, store: BlobStore, path: string, label: string, gunzip: Gunzip | undefined): Promise<void> {
  await applyLayer(tree, layerBytes(store, path, label, gunzip), label);
}
