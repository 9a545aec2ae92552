// `ldcache-dump --image FILE [--image-ref NAME]`: the cache of a saved image (docker save,
// podman save, an OCI layout directory), read from its layers without extracting them.
import { ImageError } from '../core/image-types.js';
import { LdCacheError } from '../core/errors.js';
import { parseLdCache } from '../core/parse.js';
import type { LdCache } from '../core/types.js';
import { readImage } from '../node/image-source.js';
import { CliError } from './run-cli.js';

/** The image's FILE (default /etc/ld.so.cache), links resolved inside the image. */
export async function loadImageCache(image: string, file: string, ref: string | undefined): Promise<LdCache> {
  let loaded;
  try {
    loaded = await readImage(image, { ref });
  } catch (err) {
    if (err instanceof ImageError) throw new CliError(err.message);
    throw err;
  }
  const found = loaded.tree.tryResolve(file);
  if (!found) throw new CliError(`${image}: no ${file} in the image`);
  if (found.node.kind !== 'file') throw new CliError(`${image}: ${file} in the image is not a regular file`);
  const { content, partial, size } = found.node;
  if (partial) throw new CliError(`${image}: ${file} in the image is too large to read`);
  // The layers are read once: only files named ld.so.cache keep their bytes (an empty one has none).
  if (!content && size > 0) {
    const what = found.path === file ? file : `${file} (-> ${found.path})`;
    throw new CliError(`${image}: ${what} in the image is not read: only files named ld.so.cache are kept from an image's layers`);
  }
  try {
    return parseLdCache(content ?? new Uint8Array(0));
  } catch (err) {
    if (err instanceof LdCacheError) throw new CliError(err.describe(`${image}:${found.path}`));
    throw err;
  }
}
