// The steps of loading an image, the same for both readers: list the images a store holds, choose
// one, read its config, bound its layer count, then apply its layers in order into a new
// ImageTree. How a layer is applied is the reader's (bytes from the store, or a recorded layer
// replayed). Browser-safe.
import { chooseImage } from './image-choice.js';
import { listImages, parseConfig, readJson } from './image-documents.js';
import { ImageTree } from './image-tree.js';
import { ImageError, type BlobStore, type LoadedImage, type LoadImageOptions } from './image-types.js';

/** Layers of one image: far above what any engine mounts. */
export const MAX_LAYERS = 4096;

/** How a loader applies the chosen image's layer `path` (its label names it in errors). */
export type LayerApplier = (tree: ImageTree, path: string, label: string) => Promise<void>;

/** Loads the chosen image of a store: its config and the merged tree of its layers, each applied by `apply`. */
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
