/**
 * Where an image's bytes are on disk: `--images DIR` joined with its name (or its basename), the location the
 * predictions recorded (the run's source path, as given, relative to the current folder), or the truth folder's
 * own file (folder-per-class truth holds the images). A blob URL is not read: the overlay works on local files.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ImageRoots {
  images?: string;
  /** A folder-per-class truth root: `<root>/<class>/<image>` is the truth item's name under it. */
  truthRoot?: string;
}

export function locateImage(name: string, location: string | null, roots: ImageRoots): string | undefined {
  const candidates: string[] = [];
  if (roots.images !== undefined) candidates.push(path.join(roots.images, name), path.join(roots.images, path.basename(name)));
  if (location !== null && !/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) candidates.push(path.resolve(location));
  if (roots.truthRoot !== undefined) candidates.push(path.join(roots.truthRoot, name));
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}
