// Reads a saved container image without extracting it: `docker save` (the legacy layout of
// Docker <= 24, and the OCI layout with manifest.json that Docker 25+ writes), `podman save`
// (docker-archive and oci-archive) and OCI image-layout directories (through a BlobStore the Node
// side provides). The chosen image's layers are streamed in order (gzip through the given
// decompressor, plain tar as is) into an ImageTree. Browser-safe.
import { ImageTree, ImageTreeError, splitEntryPath, wantedBytes, type FileNode, type TreeNode } from './image-tree.js';
import { indexTar, TarError, TarReader, type RandomAccess, type TarHeader, type TarMember } from './tar.js';

export class ImageError extends Error {
  override readonly name = 'ImageError';
}

/** Where an image's files come from: members of a tar, or files of an OCI layout directory. */
export interface BlobStore {
  /** For messages: the archive or directory as given. */
  readonly name: string;
  /** Size of a member, or null when it does not exist (links inside the store are followed). */
  size(path: string): number | null;
  read(path: string, max: number): Promise<Uint8Array>;
  stream(path: string): AsyncIterable<Uint8Array>;
}

/** Decompresses a gzip stream. */
export type Gunzip = (input: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

export interface ImageConfig {
  architecture: string | null;
  os: string | null;
  variant: string | null;
  env: string[];
  labels: Record<string, string>;
  diffIds: string[];
}

export interface ImageCandidate {
  /** Names it was saved under: full references, and (Docker 25+) tag-only names. */
  names: string[];
  configPath: string;
  layers: { path: string; mediaType: string | null }[];
  platform: string | null;
}

export interface LoadedImage {
  source: string;
  format: 'docker-archive' | 'oci';
  names: string[];
  platform: string | null;
  config: ImageConfig;
  tree: ImageTree;
  layerCount: number;
}

export interface LoadImageOptions {
  /** Which image of a multi-image archive (a name it was saved under). */
  ref?: string;
  /** For multi-platform indexes: `os/arch[/variant]` or `arch` (default amd64). */
  platform?: string;
  gunzip?: Gunzip;
}

const JSON_MAX = 16 << 20;
/** Layers of one image: far above what any engine mounts. */
export const MAX_LAYERS = 4096;
const utf8 = new TextDecoder('utf-8');

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

/** A member of an outer archive as the stores look it up. */
export interface ArchiveMember {
  type: TarMember['type'];
  linkname: string;
}

/** The file member at `path` (normalized), links inside the archive followed; null when none. */
export function findMember<M extends ArchiveMember>(byName: Map<string, M>, path: string): M | null {
  let key = path;
  for (let hops = 0; hops < 40; hops++) {
    const m = byName.get(key);
    if (!m) return null;
    if (m.type !== 'symlink' && m.type !== 'hardlink') return m.type === 'file' ? m : null;
    // podman: `<id>/layer.tar -> ../<diffid>.tar`, resolved inside the archive.
    const base = m.type === 'symlink' && !m.linkname.startsWith('/') ? key.split('/').slice(0, -1) : [];
    const parts: string[] = [];
    for (const p of [...base, ...m.linkname.split('/')]) {
      if (p === '' || p === '.') continue;
      if (p === '..') {
        if (parts.length === 0) return null;
        parts.pop();
      } else parts.push(p);
    }
    key = parts.join('/');
  }
  return null;
}

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
    let key: string;
    try {
      key = splitEntryPath(m.name).join('/');
    } catch {
      continue; // a member climbing out of the archive is never looked up
    }
    byName.set(key, m);
  }
  const find = (path: string): TarMember | null => findMember(byName, path);
  return {
    name,
    size: (path) => find(path)?.size ?? null,
    async read(path, max) {
      const m = find(path);
      if (!m) throw new ImageError(`${name}: no '${path}' in the archive`);
      if (m.size > max) throw new ImageError(`${name}: '${path}' is ${m.size} bytes, more than the ${max} allowed`);
      return source.read(m.dataOffset, m.size);
    },
    async *stream(path) {
      const m = find(path);
      if (!m) throw new ImageError(`${name}: no '${path}' in the archive`);
      const step = 1 << 20;
      for (let at = 0; at < m.size; at += step) {
        const bytes = await source.read(m.dataOffset + at, Math.min(step, m.size - at));
        if (bytes.length === 0) throw new ImageError(`${name}: '${path}' is truncated`);
        yield bytes;
      }
    },
  };
}

export async function readJson(store: BlobStore, path: string): Promise<unknown> {
  const bytes = await store.read(path, JSON_MAX);
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw new ImageError(`${store.name}: ${path}: invalid JSON (${(err as Error).message.split('\n')[0]})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function blobPath(store: BlobStore, digest: unknown): string {
  const d = str(digest);
  const m = d ? /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]{32,256})$/.exec(d) : null;
  if (!m) throw new ImageError(`${store.name}: invalid digest ${JSON.stringify(digest)}`);
  return `blobs/${m[1]}/${m[2]}`;
}

function cleanMemberPath(store: BlobStore, path: unknown): string {
  const p = str(path);
  if (p === null) throw new ImageError(`${store.name}: manifest.json names a path that is not a string`);
  try {
    return splitEntryPath(p).join('/');
  } catch {
    throw new ImageError(`${store.name}: manifest.json path '${p}' climbs out of the archive`);
  }
}

function platformOf(v: unknown): string | null {
  if (!isObject(v)) return null;
  const os = str(v.os);
  const arch = str(v.architecture);
  if (!os || !arch) return null;
  const variant = str(v.variant);
  return `${os}/${arch}${variant ? `/${variant}` : ''}`;
}

async function fromIndex(store: BlobStore, index: unknown, names: string[], depth: number, out: ImageCandidate[]): Promise<void> {
  if (depth > 4) throw new ImageError(`${store.name}: image indexes nested too deeply`);
  if (!isObject(index) || !Array.isArray(index.manifests)) throw new ImageError(`${store.name}: image index without a manifests list`);
  for (const desc of index.manifests) {
    if (!isObject(desc)) continue;
    const annotations = isObject(desc.annotations) ? desc.annotations : {};
    const own = [str(annotations['io.containerd.image.name']), str(annotations['org.opencontainers.image.ref.name'])].filter((n): n is string => n !== null);
    const descNames = [...names, ...own];
    const platform = platformOf(desc.platform);
    if (platform?.includes('unknown')) continue; // attestation manifests
    const mediaType = str(desc.mediaType);
    const path = blobPath(store, desc.digest);
    if (store.size(path) === null) continue; // referenced but not saved (e.g. other platforms)
    if (mediaType && !INDEX_TYPES.has(mediaType) && !MANIFEST_TYPES.has(mediaType)) continue;
    const doc = await readJson(store, path);
    if (!isObject(doc)) throw new ImageError(`${store.name}: ${path}: not a JSON object`);
    const docType = str(doc.mediaType) ?? mediaType;
    if ((docType && INDEX_TYPES.has(docType)) || Array.isArray(doc.manifests)) {
      await fromIndex(store, doc, descNames, depth + 1, out);
      continue;
    }
    if (!isObject(doc.config) || !Array.isArray(doc.layers)) throw new ImageError(`${store.name}: ${path}: image manifest without config or layers`);
    out.push({
      names: descNames,
      configPath: blobPath(store, doc.config.digest),
      layers: doc.layers.map((l) => ({ path: blobPath(store, isObject(l) ? l.digest : null), mediaType: isObject(l) ? str(l.mediaType) : null })),
      platform,
    });
  }
}

/** Every image the archive or layout holds. */
export async function listImages(store: BlobStore): Promise<{ format: LoadedImage['format']; images: ImageCandidate[] }> {
  const fromManifest: ImageCandidate[] = [];
  if (store.size('manifest.json') !== null) {
    const manifest = await readJson(store, 'manifest.json');
    if (!Array.isArray(manifest)) throw new ImageError(`${store.name}: manifest.json is not a list of images`);
    for (const item of manifest) {
      if (!isObject(item) || !Array.isArray(item.Layers)) throw new ImageError(`${store.name}: manifest.json: an image without Config or Layers`);
      fromManifest.push({
        names: Array.isArray(item.RepoTags) ? item.RepoTags.filter((t): t is string => typeof t === 'string') : [],
        configPath: cleanMemberPath(store, item.Config),
        layers: item.Layers.map((l) => ({ path: cleanMemberPath(store, l), mediaType: null })),
        platform: null,
      });
    }
  }
  if (store.size('index.json') !== null) {
    const images: ImageCandidate[] = [];
    await fromIndex(store, await readJson(store, 'index.json'), [], 0, images);
    // Docker 25+ writes both: manifest.json carries the RepoTags.
    for (const image of images) {
      for (const m of fromManifest) if (m.configPath === image.configPath) image.names.push(...m.names.filter((n) => !image.names.includes(n)));
    }
    if (images.length > 0 || fromManifest.length === 0) return { format: 'oci', images };
  }
  if (fromManifest.length === 0 && store.size('manifest.json') === null) {
    throw new ImageError(`${store.name}: not a saved image (no manifest.json or index.json)`);
  }
  return { format: 'docker-archive', images: fromManifest };
}

/** `alpine` -> `docker.io/library/alpine:latest`; full names stay as they are (digests too). */
export function normalizeRef(ref: string): string {
  let name = ref;
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  if (slash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  if (!suffix && !/:[^/]*$/.test(name)) name += ':latest';
  return name + suffix;
}

function matches(candidate: ImageCandidate, ref: string): boolean {
  const want = normalizeRef(ref);
  const tag = /:([^/:]+)$/.exec(ref)?.[1];
  return candidate.names.some((n) => n === ref || (n.includes('/') || n.includes(':') ? normalizeRef(n) === want : n === tag || n === ref));
}

function platformMatches(candidate: ImageCandidate, platform: string): boolean {
  if (candidate.platform === null) return true;
  const [os, arch, variant] = candidate.platform.split('/');
  const want = platform.split('/');
  if (want.length === 1) return arch === want[0];
  return os === want[0] && arch === want[1] && (want[2] === undefined || variant === want[2]);
}

export function describeCandidates(images: ImageCandidate[]): string {
  return images.map((i) => (i.names.length ? i.names.join(', ') : `(untagged, config ${i.configPath})`) + (i.platform ? ` [${i.platform}]` : '')).join('; ');
}

export function chooseImage(store: BlobStore, images: ImageCandidate[], options: LoadImageOptions): ImageCandidate {
  if (images.length === 0) throw new ImageError(`${store.name}: the archive holds no image`);
  let pool = options.ref === undefined ? images : images.filter((i) => matches(i, options.ref!));
  if (pool.length === 0) throw new ImageError(`${store.name}: no image named '${options.ref}'; it holds: ${describeCandidates(images)}`);
  if (pool.length > 1 && pool.some((i) => i.platform !== null)) {
    const platform = options.platform ?? 'amd64';
    const fitting = pool.filter((i) => platformMatches(i, platform));
    if (fitting.length > 0) pool = options.ref !== undefined || new Set(fitting.map((f) => f.names.join())).size === 1 ? [fitting[0]!] : fitting;
  }
  if (pool.length > 1) {
    throw new ImageError(`${store.name}: holds ${pool.length} images; choose one with --image-ref: ${describeCandidates(pool)}`);
  }
  return pool[0]!;
}

export function parseConfig(store: BlobStore, path: string, doc: unknown): ImageConfig {
  if (!isObject(doc)) throw new ImageError(`${store.name}: ${path}: the image config is not a JSON object`);
  const inner = isObject(doc.config) ? doc.config : {};
  const env = Array.isArray(inner.Env) ? inner.Env.filter((e): e is string => typeof e === 'string') : [];
  const labels: Record<string, string> = {};
  if (isObject(inner.Labels)) for (const [k, v] of Object.entries(inner.Labels)) if (typeof v === 'string') labels[k] = v;
  const rootfs = isObject(doc.rootfs) ? doc.rootfs : {};
  return {
    architecture: str(doc.architecture),
    os: str(doc.os),
    variant: str(doc.variant),
    env,
    labels,
    diffIds: Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids.filter((d): d is string => typeof d === 'string') : [],
  };
}

/** The layer's bytes, decompressed when they are gzip; zstd and other compressions are an error. */
export async function* layerBytes(store: BlobStore, path: string, label: string, gunzip: Gunzip | undefined): AsyncGenerator<Uint8Array> {
  const iterator = store.stream(path)[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && first.value.length < 4) {
    const more = await iterator.next();
    if (more.done) break;
    const joined = new Uint8Array(first.value.length + more.value.length);
    joined.set(first.value);
    joined.set(more.value, first.value.length);
    first = { done: false, value: joined };
  }
  if (first.done) return;
  const head = first.value;
  const rest = async function* (): AsyncGenerator<Uint8Array> {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  };
  if (head[0] === 0x1f && head[1] === 0x8b) {
    if (!gunzip) throw new ImageError(`${label}: gzip layer, but no gzip decompressor is available`);
    yield* gunzip(rest());
    return;
  }
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw new ImageError(`${label}: zstd-compressed layer: not supported (re-save the image with gzip or uncompressed layers, e.g. docker save from Docker, podman save --format docker-archive)`);
  }
  yield* rest();
}

const DIR_NODE = (layer: number): TreeNode => ({ kind: 'dir', layer, children: new Map() });

/** applyEntry's answer for the entries whose content is not kept (most): one shared object. */
const NOTHING_KEPT: { readonly want: 0; readonly node: null } = { want: 0, node: null };

/** The parts of a layer's tar header that change the tree. */
export type LayerEntry = Pick<TarHeader, 'name' | 'type' | 'linkname' | 'size' | 'mode'>;

/**
 * Applies one entry of the layer being applied; returns how many of its content bytes the tree
 * keeps (0: none) and the file node they go to. Throws ImageTreeError for entries the tree refuses.
 */
export function applyEntry(tree: ImageTree, h: LayerEntry): { want: number; node: FileNode | null } {
  const none = NOTHING_KEPT;
  tree.reserveEntry(h.name.length + h.linkname.length);
  const parts = splitEntryPath(h.name);
  if (parts.length === 0) return none;
  const base = parts[parts.length - 1]!;
  const dirParts = parts.slice(0, -1);
  if (base.startsWith('.wh.')) {
    if (base === '.wh..wh..opq') tree.opaque(dirParts);
    else if (base.startsWith('.wh..wh.')) return none; // aufs metadata (.wh..wh.plnk, …)
    else if (base === '.wh.') throw new ImageTreeError(`invalid whiteout '${h.name}'`);
    else tree.whiteout(dirParts, base.slice(4));
    return none;
  }
  switch (h.type) {
    case 'dir':
      tree.add(parts, DIR_NODE(tree.layer));
      return none;
    case 'symlink':
      tree.add(parts, { kind: 'symlink', layer: tree.layer, target: h.linkname });
      return none;
    case 'hardlink': {
      const target = tree.lookupExact(splitEntryPath(h.linkname));
      if (target && target.kind !== 'dir') tree.add(parts, { ...target, layer: tree.layer });
      else tree.add(parts, { kind: 'other', layer: tree.layer });
      return none;
    }
    case 'file': {
      const node: FileNode = { kind: 'file', layer: tree.layer, size: h.size, mode: h.mode, content: null, partial: false };
      tree.add(parts, node);
      const want = wantedBytes(parts.join('/'), h.size);
      if (want === 0) return none;
      tree.reserve(want);
      return { want, node };
    }
    default:
      tree.add(parts, { kind: 'other', layer: tree.layer });
      return none;
  }
}

/** Sets the kept content of a file node. */
export function keepContent(node: FileNode, size: number, bytes: Uint8Array): void {
  node.content = bytes;
  node.partial = bytes.length < size;
}

/** The one-line error of a failure inside a layer. */
export function layerError(err: unknown, label: string, consumed: number): Error {
  if (err instanceof TarError) return new ImageError(`${label}: ${err.message} (at byte ${err.offset} of the uncompressed layer)`);
  if (err instanceof ImageTreeError) return new ImageError(`${label}: ${err.message}`);
  if (err instanceof ImageError) return err;
  return new ImageError(`${label}: cannot read the layer: ${(err as Error)?.message?.split('\n')[0] ?? String(err)} (after ${consumed} uncompressed bytes)`);
}

/** Applies one layer tar (already decompressed) to the tree. */
export async function applyLayer(tree: ImageTree, bytes: AsyncIterable<Uint8Array>, label: string): Promise<void> {
  tree.beginLayer();
  let pending = null as FileNode | null;
  const reader = new TarReader({
    entry(h) {
      const { want, node } = applyEntry(tree, h);
      pending = node;
      return want;
    },
    content(h, bytes) {
      if (pending) keepContent(pending, h.size, bytes);
      pending = null;
    },
  });
  let consumed = 0;
  try {
    for await (const chunk of bytes) {
      consumed += chunk.length;
      reader.push(chunk); // read to the end even past the end marker: the decompressor must drain
    }
    reader.end();
  } catch (err) {
    throw layerError(err, label, consumed);
  }
}

/** How a loader applies the chosen image's layer `path` (its label names it in errors). */
export type LayerApplier = (tree: ImageTree, path: string, label: string) => Promise<void>;

/** Reads the chosen image of a store: its config and the merged tree of its layers. */
export async function loadImage(store: BlobStore, options: LoadImageOptions = {}): Promise<LoadedImage> {
  return loadImageWith(store, options, (tree, path, label) => applyLayer(tree, layerBytes(store, path, label, options.gunzip), label));
}

/** loadImage with the layers applied by `apply` (the one-pass reader replays what it recorded). */
export async function loadImageWith(store: BlobStore, options: LoadImageOptions, apply: LayerApplier): Promise<LoadedImage> {
  const { format, images } = await listImages(store);
  const image = chooseImage(store, images, options);
  const config = parseConfig(store, image.configPath, await readJson(store, image.configPath));
  // Overlay mounts at most 128 layers (Docker refuses more); a manifest may list thousands.
  if (image.layers.length > MAX_LAYERS) throw new ImageError(`${store.name}: the image has ${image.layers.length} layers, more than the ${MAX_LAYERS} allowed`);
  const tree = new ImageTree();
  for (const [i, layer] of image.layers.entries()) {
    if (store.size(layer.path) === null) throw new ImageError(`${store.name}: layer ${i + 1} (${layer.path}) is not in the archive`);
    await apply(tree, layer.path, `${store.name}: layer ${i + 1} (${layer.path})`);
  }
  return { source: store.name, format, names: image.names, platform: image.platform, config, tree, layerCount: image.layers.length };
}

/** Gzip through the standard DecompressionStream (browsers, Node 20+). */
export const webGunzip: Gunzip = async function* (input) {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const pump = (async () => {
    try {
      for await (const chunk of input) await writer.write(chunk as Uint8Array<ArrayBuffer>);
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => undefined);
    }
  })();
  const reader = ds.readable.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield value;
    }
    finished = true;
  } finally {
    // A consumer that stops early (a damaged layer) cancels the stream: a write waiting on it fails, the pump ends.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
    await pump;
  }
};
