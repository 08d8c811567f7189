/**
 * Where the tests find the published spec files: ../shared/specs next to the repository (reference copies), else
 * the folder `npm run fetch-specs` fills from tests/support/specs.manifest.json, each file checked against its
 * pinned SHA-256. Tests that need them skip with a message naming the command when neither has them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ManifestFile {
  name: string;
  repo: string;
  commit: string;
  path: string;
  sha256: string;
  extract?: { fencedJson: { firstEvent: Record<string, string> } };
}

const repoRoot = path.resolve(__dirname, '..', '..');
export const manifest = JSON.parse(readFileSync(path.join(__dirname, 'specs.manifest.json'), 'utf8')) as { folder: string; files: ManifestFile[] };

export const SHARED_SPECS_DIR = path.resolve(repoRoot, '..', 'shared', 'specs');
export const FETCHED_SPECS_DIR = path.resolve(repoRoot, manifest.folder);
export const FETCH_SPECS_COMMAND = 'npm run fetch-specs';

export type SpecsLocation = { ok: true; dir: string; source: 'shared' | 'fetched' } | { ok: false; reason: string };

/** `dirs` replaces the two folders (tests of this helper). */
export function locateSpecs(names: readonly string[], dirs: { shared: string; fetched: string } = { shared: SHARED_SPECS_DIR, fetched: FETCHED_SPECS_DIR }): SpecsLocation {
  if (names.every((n) => existsSync(path.join(dirs.shared, n)))) return { ok: true, dir: dirs.shared, source: 'shared' };
  const problems: string[] = [];
  for (const name of names) {
    const pinned = manifest.files.find((f) => f.name === name);
    if (pinned === undefined) throw new Error(`${name} is not in tests/support/specs.manifest.json; add it with its commit and SHA-256`);
    const file = path.join(dirs.fetched, name);
    if (!existsSync(file)) problems.push(`${name} missing`);
    else if (createHash('sha256').update(readFileSync(file)).digest('hex') !== pinned.sha256) problems.push(`${name} does not match its pinned SHA-256`);
  }
  if (problems.length === 0) return { ok: true, dir: dirs.fetched, source: 'fetched' };
  return {
    ok: false,
    reason: `published specs not found in ${dirs.shared} nor in ${dirs.fetched} (${problems.join('; ')}): run \`${FETCH_SPECS_COMMAND}\` to download them at their pinned commits`,
  };
}
