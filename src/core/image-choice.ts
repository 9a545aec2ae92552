// Which of the images an archive holds is meant: by a reference as a user types it (`alpine`,
// `repo:tag`, full names, digests; Docker 25+ also saves tag-only names) and, in a multi-platform
// index, by platform (default amd64). An ambiguous or unknown choice is an error listing the
// images held. Browser-safe.
import { ImageError, type BlobStore, type ImageCandidate, type LoadImageOptions } from './image-types.js';

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
