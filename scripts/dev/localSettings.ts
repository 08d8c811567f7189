/** Reads the settings a developer keeps beside the app: local.settings.json `Values` (as Core Tools) and `.env`. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

export interface LocalSettings {
  values: Record<string, string>;
  /** The files that were read, for the start-up banner. */
  files: string[];
}

/** `local.settings.json` Values, then `.env` on top (.env wins); absent files are skipped, broken ones named. */
export function readLocalSettings(root: string): LocalSettings {
  const values: Record<string, string> = {};
  const files: string[] = [];
  const settingsFile = path.join(root, 'local.settings.json');
  if (existsSync(settingsFile)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(settingsFile, 'utf8'));
    } catch (e) {
      throw new Error(`${settingsFile} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const v: unknown = typeof parsed === 'object' && parsed !== null ? (parsed as { Values?: unknown }).Values : undefined;
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw new Error(`${settingsFile}: "Values" must be an object of settings.`);
    for (const [name, value] of Object.entries((v ?? {}) as Record<string, unknown>)) {
      // Core Tools accepts numbers and booleans here and hands them to the app as strings.
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') values[name] = String(value);
    }
    files.push(settingsFile);
  }
  const envFile = path.join(root, '.env');
  if (existsSync(envFile)) {
    Object.assign(values, parseEnv(readFileSync(envFile, 'utf8')));
    files.push(envFile);
  }
  return { values, files };
}
