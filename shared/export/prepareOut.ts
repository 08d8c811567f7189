/** Makes room for an export at `--out`: never over an existing path unless --force, and never wiping a stranger's folder. */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { ExportUsageError } from './ExportUsageError';

/** Written into every folder export; --force only removes folders that hold it (our own earlier exports). */
export const EXPORT_MARKER = 'blobsight-export.json';

export function prepareOut(out: string, layout: 'file' | 'folder', force: boolean): void {
  if (existsSync(out)) {
    if (!force) throw new ExportUsageError(`${out} already exists; choose another --out, or add --force to replace it.`);
    const isDir = statSync(out).isDirectory();
    if (isDir && layout === 'file') throw new ExportUsageError(`${out} is a folder; this format writes one file. Choose a file path for --out.`);
    if (!isDir && layout === 'folder') throw new ExportUsageError(`${out} is a file; this format writes a folder. Choose a folder path for --out.`);
    if (isDir) {
      // An empty folder is fine to reuse; a folder of someone's files is never deleted on their behalf.
      if (readdirSync(out).length > 0 && !existsSync(join(out, EXPORT_MARKER))) {
        throw new ExportUsageError(`${out} is a folder that blobsight did not write (no ${EXPORT_MARKER}); --force replaces only earlier exports. Choose another --out.`);
      }
      rmSync(out, { recursive: true, force: true });
    }
  }
  mkdirSync(layout === 'folder' ? out : dirname(out), { recursive: true });
}

/**
 * A record name as a relative path inside an export folder. Names come from files and blob names, i.e. from outside:
 * one that would climb out of the folder (`..`), is absolute, or has empty segments is refused.
 */
export function safeRelativePath(name: string): string {
  const parts = name.replace(/\\/g, '/').split('/');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new ExportUsageError(`The image name ${JSON.stringify(name)} cannot be used as a file name inside the export folder.`);
  }
  return parts.join('/');
}

/** `a/b.jpg` → `a/b` + ext. */
export function withExtension(relative: string, ext: string): string {
  const slash = relative.lastIndexOf('/');
  const dot = relative.lastIndexOf('.');
  return `${dot > slash + 1 ? relative.slice(0, dot) : relative}${ext}`;
}
