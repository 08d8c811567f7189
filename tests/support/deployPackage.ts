/**
 * What `azd deploy` ships, computed the way it is built: the files azd zips (the project folder minus what
 * .funcignore names) and the node_modules the remote build leaves behind (the production dependency closure of
 * package-lock.json, minus what scripts/pruneDeployPackage.mjs removes). Sizes are read from this machine's
 * node_modules, which is Linux x64 like Flex Consumption.
 */
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';

import ignore from 'ignore';

/** The embedded detector's packages: only the `local-detector` model provider loads them. */
export const DETECTOR_PACKAGES = ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-core', '@vladmandic/human'] as const;

export interface UploadedFile {
  path: string;
  bytes: number;
}

/** Whether .funcignore leaves `relPath` ('/'-separated; a folder ends with '/') out of the zip. */
export function funcignored(root: string): (relPath: string) => boolean {
  const rules = ignore().add(readFileSync(path.join(root, '.funcignore'), 'utf8'));
  return (relPath) => rules.ignores(relPath);
}

/** Files azd puts in the zip for `project: .` (paths relative to root, '/'-separated), by .funcignore's rules. */
export function uploadedFiles(root: string): UploadedFile[] {
  const rules = { ignores: funcignored(root) };
  const out: UploadedFile[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      // node_modules may be a symlink here (worktrees share one); a directory test must see it as one.
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSync(path.join(root, child)).isDirectory());
      if (rules.ignores(isDir ? `${child}/` : child)) continue;
      if (isDir) walk(child);
      else out.push({ path: child, bytes: statSync(path.join(root, child)).size });
    }
  };
  walk('');
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Deflated size of the files, about what the zip azd uploads weighs. */
export function zippedBytes(root: string, files: readonly UploadedFile[]): number {
  return files.reduce((sum, f) => sum + deflateRawSync(readFileSync(path.join(root, f.path))).length + 30 + f.path.length * 2, 22);
}

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export interface InstalledPackage {
  /** Lock key, e.g. `node_modules/sharp` or `node_modules/a/node_modules/b`. */
  key: string;
  name: string;
  /** Bytes on disk, not counting its own nested node_modules (those are packages of their own). */
  bytes: number;
}

/**
 * Production packages installed on this machine, reachable from package.json's `dependencies` except `exclude`
 * (a package reachable only through an excluded one is not counted). Platform packages not installed here
 * (sharp's darwin and win32 binaries) are skipped, as npm skips them on Linux.
 */
export function productionClosure(root: string, exclude: readonly string[] = []): InstalledPackage[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const rootDeps = Object.keys((lock.packages[''] as LockEntry).dependencies ?? {}).filter((n) => !exclude.includes(n));
  const seen = new Map<string, InstalledPackage>();
  const resolve = (from: string, name: string): string | undefined => {
    // Node's lookup: the nearest node_modules up the tree from the requiring package, then the top level.
    for (let dir = from; ; ) {
      const key = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
      if (lock.packages[key] !== undefined) return key;
      if (dir === '') return undefined;
      const at = dir.lastIndexOf('/node_modules/');
      dir = at < 0 ? '' : dir.slice(0, at);
    }
  };
  const visit = (key: string, name: string): void => {
    if (seen.has(key)) return;
    const dir = path.join(root, key);
    if (!exists(dir)) return;
    seen.set(key, { key, name, bytes: dirBytes(dir, true) });
    const entry = lock.packages[key] as LockEntry;
    for (const dep of [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})]) {
      if (exclude.includes(dep)) continue;
      const found = resolve(key, dep);
      if (found !== undefined) visit(found, dep);
    }
  };
  for (const name of rootDeps) {
    const key = resolve('', name);
    if (key !== undefined) visit(key, name);
  }
  return [...seen.values()];
}

/** Total bytes of a folder's files (symlinks followed at the top only); `skipNested` leaves out node_modules below it. */
export function dirBytes(dir: string, skipNested = false): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipNested && entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(p);
    else if (entry.isFile()) total += lstatSync(p).size;
  }
  return total;
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
