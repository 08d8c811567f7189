/** Reads a JSON or JSON Lines input of the evaluator; a file that cannot be read or parsed is a usage error (exit 2). */
import { readFileSync } from 'node:fs';

import { UsageError } from '../cli/UsageError';

export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${what} ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${what} ${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Every non-empty line parsed; a bad line is a warning with its number, never fatal. */
export function readJsonLinesFile(file: string, what: string, warnings: string[]): { value: unknown; line: number }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${what} ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const out: { value: unknown; line: number }[] = [];
  text.split('\n').forEach((t, i) => {
    if (t.trim() === '') return;
    try {
      out.push({ value: JSON.parse(t) as unknown, line: i + 1 });
    } catch (e) {
      warnings.push(`${file} line ${i + 1} skipped: not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  });
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
