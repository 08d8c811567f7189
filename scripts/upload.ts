/**
 * Uploads images to the images container (Azurite by default), so the Event Grid stand-in of `npm start` (or Event
 * Grid in Azure) classifies them. Usage: node dist/scripts/upload.js <files or folders...> [--profile <name>]
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { loadProfiles } from '../shared/profiles';
import { documentId } from '../shared/store';
import { imagesContainerFromSettings } from './dev/imagesContainerFromSettings';

const USAGE = `Usage: node dist/scripts/upload.js <files or folders...> [--profile <name>] [--container <name>] [--connection-string <cs>]

Uploads each image to the images container as [<profile>/]<file name>; the first folder of a blob name picks the
profile. Storage comes from local.settings.json / .env / the environment (AzureWebJobsStorage), else Azurite
(UseDevelopmentStorage=true, as npm start runs it).`;

const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.avif': 'image/avif',
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { profile: { type: 'string' }, container: { type: 'string' }, 'connection-string': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true || positionals.length === 0) {
    console.log(USAGE);
    return values.help === true ? 0 : 2;
  }
  const storage = imagesContainerFromSettings({
    ...(values['connection-string'] === undefined ? {} : { connectionString: values['connection-string'] }),
    ...(values.container === undefined ? {} : { container: values.container }),
  });
  const profile = values.profile?.trim();
  if (profile !== undefined && profile !== '') {
    const profiles = loadProfiles(storage.settings['PROFILES_DIR']?.trim() || undefined);
    if (!profiles.has(profile)) {
      console.error(`Unknown profile "${profile}". Known profiles: ${profiles.names().join(', ')}.`);
      return 2;
    }
  }

  const files = positionals.flatMap((p) => expand(path.resolve(p)));
  if (files.length === 0) {
    console.error('No image files found (looked for .jpg .jpeg .png .webp .gif .tif .tiff .heic .heif .avif).');
    return 2;
  }
  const container = storage.container;
  await container.createIfNotExists().catch((e: unknown) => {
    throw new Error(`Cannot reach ${container.url} (${storage.source}). Is npm start (or Azurite) running? ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  });

  const tty = process.stdout.isTTY;
  let failed = 0;
  for (const [i, file] of files.entries()) {
    const blobName = `${profile ? `${profile}/` : ''}${path.basename(file)}`;
    const size = statSync(file).size;
    const prefix = `[${i + 1}/${files.length}] ${blobName}`;
    try {
      await container.getBlockBlobClient(blobName).uploadFile(file, {
        blobHTTPHeaders: { blobContentType: TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' },
        onProgress: (p) => {
          if (tty) process.stdout.write(`\r${prefix} ${percent(p.loadedBytes, size)}`);
        },
      });
      const line = `${prefix} ${formatBytes(size)} uploaded → document ${documentId(container.containerName, blobName)}`;
      console.log(tty ? `\r${line}` : line);
    } catch (e) {
      failed++;
      console.error(`${tty ? '\n' : ''}${prefix} failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  console.log(`${files.length - failed} of ${files.length} uploaded to ${container.url}. Results: GET /api/images/<document> (or the web page).`);
  return failed > 0 ? 1 : 0;
}

/** A file as is; a folder's image files, recursively, in name order. */
function expand(p: string): string[] {
  const st = statSync(p, { throwIfNoEntry: false });
  if (st === undefined) throw new Error(`${p} does not exist`);
  if (st.isFile()) return [p];
  return readdirSync(p, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => (d.isDirectory() ? expand(path.join(p, d.name)) : d.isFile() && TYPES[path.extname(d.name).toLowerCase()] !== undefined ? [path.join(p, d.name)] : []));
}

function percent(done: number, total: number): string {
  return `${total === 0 ? 100 : Math.min(100, Math.floor((done / total) * 100))}%`;
}

function formatBytes(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
