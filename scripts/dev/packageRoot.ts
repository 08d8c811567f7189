/** The folder of blobsight's package.json, found from this file in the sources and in dist/ alike. */
import { existsSync } from 'node:fs';
import path from 'node:path';

export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'host.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`blobsight's package.json not found above ${from}`);
  }
}
