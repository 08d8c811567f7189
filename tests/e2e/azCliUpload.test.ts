/**
 * The README's Azure CLI upload command, run with the real `az` against the local stack (free ports): the blob lands
 * in Azurite, the Event Grid stand-in delivers it, and it ends classified. Skips with a message where `az` is absent.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { LocalStack } from '../../scripts/dev/localStack';
import { startLocalStack } from '../../scripts/dev/localStack';
import { documentId } from '../../shared/store';
import type { FakeOpenAI } from '../support/fakeOpenAI';
import { answerFromSchema, startFakeOpenAI } from '../support/fakeOpenAI';
import { jpeg } from '../support/imageFixtures';

const run = promisify(execFile);

function findAz(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v az'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const az = findAz();
if (az === undefined) console.warn('azCliUpload: skipped, the Azure CLI (az) is not installed (Debian: apt-get install azure-cli)');

/** The `az storage blob upload ...` command of the README, as one argument list. */
async function readmeCommand(): Promise<string[]> {
  const readme = await readFile(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.trim().startsWith('az storage blob upload --connection-string'));
  if (line === undefined) throw new Error('README has no az storage blob upload --connection-string command');
  // Split on spaces outside double quotes, then drop the quotes, as a shell would for this command.
  return (line.trim().match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"(.*)"$/, '$1'));
}

describe.skipIf(az === undefined)('the README upload command with the real Azure CLI', { timeout: 240_000 }, () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let azConfig: string;
  let stack: LocalStack | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setAnswer(({ schema }) => ({ answer: answerFromSchema(schema, { label: 'rose' }) }));
    dataDir = await mkdtemp(path.join(tmpdir(), 'blobsight-az-'));
    azConfig = await mkdtemp(path.join(tmpdir(), 'blobsight-azconfig-'));
    stack = await startLocalStack({
      dataDir,
      ports: { blob: 0, cosmos: 0, host: 0 },
      env: { AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_DEPLOYMENT: fake.deployment, AZURE_OPENAI_API_KEY: fake.apiKey, MODEL_MAX_RETRIES: '0' },
      eventGrid: { pollMs: 100 },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await fake?.close();
    for (const d of [dataDir, azConfig]) if (d !== undefined) await rm(d, { recursive: true, force: true });
  });

  it('uploads with the full Azurite connection string, and the image is classified', async () => {
    const s = stack;
    if (s === undefined) throw new Error('no stack');
    const args = await readmeCommand();
    expect(args.slice(0, 3)).toEqual(['az', 'storage', 'blob']);
    const at = (flag: string): number => args.indexOf(flag);
    const cs = args[at('--connection-string') + 1] ?? '';
    expect(cs).not.toContain('UseDevelopmentStorage');
    // The README names the default port; the test stack runs on a free one, and the banner prints that string.
    expect(cs.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT')).toBe(s.blobConnectionString.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT'));
    args[at('--connection-string') + 1] = s.blobConnectionString;
    const container = args[at('--container-name') + 1];
    expect(container).toBe(s.services.images.containerName);
    const file = path.join(dataDir, args[at('--file') + 1] ?? 'x.jpg');
    await writeFile(file, await jpeg(300, 200));
    args[at('--file') + 1] = file;
    const name = args[at('--name') + 1] ?? '';

    const out = await run(args[0] ?? 'az', [...args.slice(1), '--only-show-errors', '--output', 'json'], {
      env: { ...process.env, AZURE_CONFIG_DIR: azConfig, AZURE_CORE_COLLECT_TELEMETRY: 'false', AZURE_CORE_SURVEY_MESSAGE: 'false' },
      timeout: 240_000,
    });
    expect(out.stderr).not.toMatch(/Invalid connection string/i);
    const props = await s.services.images.getBlobClient(name).getProperties();
    expect(props.contentLength).toBeGreaterThan(0);

    const id = documentId(s.services.images.containerName, name);
    let status = '';
    for (let i = 0; i < 300 && status !== 'classified'; i++) {
      const r = await fetch(`${s.urls.api}/api/images/${id}`, { headers: { 'x-functions-key': s.functionKey } });
      status = r.status === 200 ? ((await r.json()) as { status: string }).status : (await r.body?.cancel(), '');
      if (status !== 'classified') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('classified');
  });

  it('fails with the shortcut the README used to give, as the issue reported', async () => {
    const s = stack;
    if (s === undefined) throw new Error('no stack');
    const result = await run('az', ['storage', 'container', 'list', '--connection-string', 'UseDevelopmentStorage=true', '--only-show-errors'], {
      env: { ...process.env, AZURE_CONFIG_DIR: azConfig, AZURE_CORE_COLLECT_TELEMETRY: 'false' },
      timeout: 240_000,
    }).then(
      () => 'succeeded',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(result).toMatch(/Invalid connection string/i);
  });
});
