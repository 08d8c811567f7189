/** Every file under a folder, recursively, as items named by their path relative to the folder. */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { UsageError } from '../UsageError';
import { readLocalFile } from './readLocalFile';
import type { ListedSource, SourceItem } from './sourceItem';

/**
 * Every entry that is not a directory is an item, images or not: a non-image is recorded as rejected with the
 * service's reason rather than silently left out. Symbolic links to files are followed; links to directories
 * are not (a link cycle would never end), and a dangling link is an item that fails to read.
 */
export function listFolder(folder: string, maxBytes: number): ListedSource {
  const root = path.resolve(folder);
  const names: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
        continue;
      }
      if (entry.isSymbolicLink()) {
        try {
          if (statSync(full).isDirectory()) continue;
        } catch {
          // Dangling: kept, so the run records it as unreadable.
        }
      }
      names.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  if (names.length === 0) throw new UsageError(`The folder ${folder} contains no files.`);
  names.sort();
  return { kind: 'folder', location: folder, items: names.map((name) => fileItem(path.join(root, name), name, maxBytes, path.join(folder, name))) };
}

/** `location` is the path as the user gave it (relative stays relative), `file` the one read. */
export function fileItem(file: string, name: string, maxBytes: number, location: string = file): SourceItem {
  return { kind: 'bytes', name, source: { kind: 'file', location }, read: (signal) => readLocalFile(file, maxBytes, signal) };
}
