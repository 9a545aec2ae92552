// The JSON documents of a saved image, read from a BlobStore: which images it holds (Docker's
// manifest.json, the OCI index.json with nested indexes and image manifests, both when Docker 25+
// writes both) and what an image's config says (platform, environment, labels, diff ids). Every
// path a document names is checked to stay inside the store. Browser-safe.
import { splitEntryPath } from './image-tree.js';
import { ImageError, type BlobStore, type ImageCandidate, type ImageConfig, type LoadedImage } from './image-types.js';

/** JSON documents (manifests, configs, indexes) up to this size are read. */
export const JSON_MAX = 16 << 20;
const utf8 = new TextDecoder('utf-8');

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

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
