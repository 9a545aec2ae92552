// What both image readers (random access, image-archive.ts; one pass, image-stream.ts) and their
// callers speak: where an image's files come from (a BlobStore), what a saved image lists, what
// a loaded image is, and the one error class they report with. Browser-safe.
import type { ImageTree } from './image-tree.js';

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
