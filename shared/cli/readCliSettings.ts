/** The CLI reads the service's settings: `local.settings.json` Values, then `.env`, then the environment (which wins). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

import type { Env } from '../config';
import { UsageError } from './UsageError';

export interface CliSettings {
  env: Env;
  /** The files that were read. */
  files: string[];
}

/** Looks in `dir` (the current folder): the same files Core Tools and `npm start` read beside the app. */
export function readCliSettings(dir: string, processEnv: Env = process.env): CliSettings {
  const values: Record<string, string> = {};
  const files: string[] = [];
  const settingsFile = path.join(dir, 'local.settings.json');
  if (existsSync(settingsFile)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(settingsFile, 'utf8'));
    } catch (e) {
      throw new UsageError(`${settingsFile} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    const v: unknown = typeof parsed === 'object' && parsed !== null ? (parsed as { Values?: unknown }).Values : undefined;
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw new UsageError(`${settingsFile}: "Values" must be an object of settings.`);
    for (const [name, value] of Object.entries((v ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') values[name] = String(value);
    }
    files.push(settingsFile);
  }
  const envFile = path.join(dir, '.env');
  if (existsSync(envFile)) {
    Object.assign(values, parseEnv(readFileSync(envFile, 'utf8')));
    files.push(envFile);
  }
  return { env: { ...values, ...processEnv }, files };
}
