// The random-access image reader: a saved container image read without extracting it, from a tar
// read at random (`docker save`: the legacy layout of Docker <= 24 and the OCI layout with
// manifest.json that Docker 25+ writes; `podman save`: docker-archive and oci-archive) or from an
// OCI image-layout directory (through a BlobStore the Node side provides). Only the headers are
// indexed; the chosen image's layers are then streamed in order (gzip through the given
// decompressor, plain tar as is) into an ImageTree. For a stream that can be read only once, see
// image-stream.ts. Browser-safe.
import { findMember, memberAt, memberKey, memberToRead } from './archive-members.js';
import { loadImageWith } from './image-load.js';
import { ImageError, type BlobStore, type LoadedImage, type LoadImageOptions } from './image-types.js';
import { applyLayer } from './layer-apply.js';
import { layerBytes } from './layer-compression.js';
import { indexTar, TarError, type RandomAccess, type TarMember } from './tar.js';

/** A store over the members of a tar archive read through random access. */
export async function tarBlobStore(source: RandomAccess, name: string): Promise<BlobStore> {
  let members: TarMember[];
  try {
    members = await indexTar(source);
  } catch (err) {
    if (err instanceof TarError) throw new ImageError(`${name}: ${err.message} (at byte ${err.offset})`);
    throw err;
  }
  const byName = new Map<string, TarMember>();
  for (const m of members) {
    const key = memberKey(m.name);
    if (key !== null) byName.set(key, m); // a member climbing out of the archive is never looked up
  }
  return {
    name,
    size: (path) => findMember(byName, path)?.size ?? null,
    async read(path, max) {
      const m = memberToRead(name, byName, path, max);
      return source.read(m.dataOffset, m.size);
    },
    async *stream(path) {
      const m = memberAt(name, byName, path);
      const step = 1 << 20;
      for (let at = 0; at < m.size; at += step) {
        const bytes = await source.read(m.dataOffset + at, Math.min(step, m.size - at));
        if (bytes.length === 0) throw new ImageError(`${name}: '${path}' is truncated`);
        yield bytes;
      }
    },
  };
}

/** Reads the chosen image of a store: its config and the merged tree of its layers. */
export async function loadImage(store: BlobStore, options: LoadImageOptions = {}): Promise<LoadedImage> {
  return loadImageWith(store, options, (tree, path, label) => applyLayer(tree, layerBytes(store, path, label, options.gunzip), label));
}
