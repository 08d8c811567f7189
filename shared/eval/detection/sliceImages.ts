/** Detection metrics per slice of images: a frame attribute (weather, timeofday, scene), a path prefix, any image-level key. */
import { evaluateDetection } from './evaluateDetection';
import type { DetectionImage, DetectionOptions, DetectionReport } from './types';

/** The slice (or slices) an image belongs to; undefined leaves it out of every slice. */
export type SliceKey = (image: DetectionImage) => string | readonly string[] | undefined;

export function sliceImages(images: readonly DetectionImage[], key: SliceKey, options: DetectionOptions = {}): Record<string, DetectionReport> {
  const groups = new Map<string, DetectionImage[]>();
  for (const image of images) {
    const k = key(image);
    if (k === undefined) continue;
    for (const name of typeof k === 'string' ? [k] : k) {
      const group = groups.get(name);
      if (group) group.push(image);
      else groups.set(name, [image]);
    }
  }
  const out: Record<string, DetectionReport> = {};
  for (const name of [...groups.keys()].sort()) out[name] = evaluateDetection(groups.get(name) as DetectionImage[], options);
  return out;
}

/** Slice by a frame attribute; images without it go to "(none)" so none is silently dropped. */
export function byAttribute(name: string): SliceKey {
  return (image) => image.attributes?.[name] ?? '(none)';
}

/** Slice by the first `depth` folders of the image name ("a/b/c.jpg" at depth 1 → "a"); names without a folder go to "(root)". */
export function byPathPrefix(depth = 1): SliceKey {
  return (image) => {
    const parts = image.image.split('/');
    return parts.length > 1 ? parts.slice(0, Math.min(depth, parts.length - 1)).join('/') : '(root)';
  };
}
