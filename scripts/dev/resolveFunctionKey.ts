/** The dev host's function key: given, or from FUNCTIONS_DEV_KEY, or made once and kept in the data folder. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface FunctionKey {
  key: string;
  source: 'option' | 'FUNCTIONS_DEV_KEY' | 'file' | 'new';
  /** Where a made key is kept. */
  file: string;
}

export function resolveFunctionKey(dataDir: string, given: string | undefined, fromSettings: string | undefined): FunctionKey {
  const file = path.join(dataDir, 'function-key');
  if (given !== undefined && given.trim() !== '') return { key: given.trim(), source: 'option', file };
  if (fromSettings !== undefined && fromSettings.trim() !== '') return { key: fromSettings.trim(), source: 'FUNCTIONS_DEV_KEY', file };
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored !== '') return { key: stored, source: 'file', file };
  }
  // URL-safe, so the page link `/?code=<key>` needs no escaping.
  const key = randomBytes(32).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${key}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return { key, source: 'new', file };
}
