/** The files a glob pattern matches (tinyglobby: the same syntax as fast-glob, without its dependency tree). */
import path from 'node:path';

import { globSync } from 'tinyglobby';

import { UsageError } from '../UsageError';
import { fileItem } from './listFolder';
import type { ListedSource } from './sourceItem';

/** True when the argument is a pattern rather than a path (it has glob syntax the shell left unexpanded). */
export function isGlobPattern(arg: string): boolean {
  return /[*?[\]{}]/.test(arg);
}

export function listGlob(pattern: string, maxBytes: number, cwd: string = process.cwd()): ListedSource {
  // Only files: a directory whose name happens to match (x.jpg/) is not an image to send.
  const matches = globSync(pattern, { cwd, onlyFiles: true, absolute: false, dot: false, expandDirectories: false }).sort();
  if (matches.length === 0) throw new UsageError(`The pattern ${JSON.stringify(pattern)} matches no files (from ${cwd}). Quote it so the shell does not expand it, e.g. 'photos/**/*.jpg'.`);
  return {
    kind: 'glob',
    location: pattern,
    items: matches.map((m) => fileItem(path.resolve(cwd, m), m.split(path.sep).join('/'), maxBytes, m)),
  };
}
