/** The CLI's version: blobsight's package.json, found above this file in the sources and in dist/ alike. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

let memo: string | undefined;

export function cliVersion(): string {
  if (memo !== undefined) return memo;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'blobsight' && typeof pkg.version === 'string') return (memo = pkg.version);
    }
    if (path.dirname(dir) === dir) return (memo = '0.0.0-unknown');
  }
}
