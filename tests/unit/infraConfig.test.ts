/** azd wiring around the Bicep: azure.yaml, the parameters file, .funcignore, the CI workflow, and the hooks run against stub az/azd. */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { loadConfig } from '../../shared/config';
import type { BicepFile } from '../support/bicepTree';
import { literal, outputs, parameters, parseBicep } from '../support/bicepTree';

const repoRoot = path.resolve(__dirname, '..', '..');
const read = (rel: string): string => readFileSync(path.join(repoRoot, rel), 'utf8');

let main: BicepFile;
let subscriptionTemplate: BicepFile;
const scratch: string[] = [];

beforeAll(async () => {
  main = await parseBicep(read('infra/main.bicep'), 'infra/main.bicep');
  subscriptionTemplate = await parseBicep(read('infra/eventgrid-subscription.bicep'), 'infra/eventgrid-subscription.bicep');
});

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

interface HookCommand {
  shell: string;
  run: string;
}

interface AzureYaml {
  name: string;
  services: Record<string, { project: string; language: string; host: string; remoteBuild?: boolean; hooks?: Record<string, Record<string, HookCommand>> }>;
  hooks: Record<string, Record<string, HookCommand>>;
}

describe('azure.yaml', () => {
  const azureYaml = (): AzureYaml => parseYaml(read('azure.yaml')) as AzureYaml;

  it('declares the api service as a TypeScript function app built from the repository root', () => {
    const y = azureYaml();
    expect(y.name).toBe('blobsight');
    expect(y.services['api']).toMatchObject({ project: '.', language: 'ts', host: 'function', remoteBuild: true });
    const pkg = JSON.parse(read('package.json')) as { main: string; scripts: Record<string, string> };
    expect(pkg.main).toBe('dist/functions/*.js');
    expect(pkg.scripts['build']).toBeDefined();
  });

  it('runs every hook with sh on posix and pwsh on Windows, and every script it names exists', () => {
    const y = azureYaml();
    const hooks: [string, Record<string, HookCommand>][] = [
      ...Object.entries(y.hooks),
      ...Object.entries(y.services['api']?.hooks ?? {}).map(([k, v]): [string, Record<string, HookCommand>] => [`api.${k}`, v]),
    ];
    expect(hooks.map(([k]) => k).sort()).toEqual(['api.prepackage', 'postdeploy', 'postprovision']);
    for (const [name, h] of hooks) {
      expect(h['posix']?.shell, name).toBe('sh');
      expect(h['windows']?.shell, name).toBe('pwsh');
      for (const cmd of [h['posix'], h['windows']]) {
        expect(existsSync(path.join(repoRoot, cmd?.run ?? '<none>')), `${name}: ${cmd?.run}`).toBe(true);
      }
    }
  });
});

describe('infra/main.parameters.json', () => {
  type Parameters = { parameters: Record<string, { value: unknown }> };
  const file = (): Parameters => JSON.parse(read('infra/main.parameters.json')) as Parameters;

  it('feeds the azd environment into the template', () => {
    const p = file().parameters;
    expect(p['environmentName']?.value).toBe('${AZURE_ENV_NAME}');
    expect(p['location']?.value).toBe('${AZURE_LOCATION}');
    expect(p['principalId']?.value).toBe('${AZURE_PRINCIPAL_ID}');
  });

  it('sets only parameters main.bicep declares, and every one main.bicep requires', () => {
    const declared = parameters(main);
    const set = Object.keys(file().parameters);
    expect(set.filter((k) => !declared.some((d) => d.name === k))).toEqual([]);
    expect(declared.filter((d) => d.defaultValue === null).map((d) => d.name).filter((n) => !set.includes(n))).toEqual([]);
  });

  it('uses the Bicep defaults as the ${VAR=default} fallbacks', () => {
    const mismatched: string[] = [];
    for (const [name, { value }] of Object.entries(file().parameters)) {
      const m = /^\$\{[A-Z0-9_]+=(.*)\}$/.exec(String(value));
      if (m === null) continue;
      const d = parameters(main).find((x) => x.name === name)?.defaultValue;
      const want = d === null || d === undefined ? undefined : String(literal(d));
      if (m[1] !== want) mismatched.push(`${name}: ${m[1]} vs ${want}`);
    }
    expect(mismatched).toEqual([]);
  });
});

describe('.funcignore', () => {
  const lines = (): string[] =>
    read('.funcignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));

  it('leaves node_modules, local settings, tests and infra out of the package', () => {
    expect(lines()).toEqual(expect.arrayContaining(['node_modules/', 'local.settings.json', 'tests/', 'infra/']));
  });

  it('keeps what the remote build and the runtime need', () => {
    const needed = ['host.json', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'functions', 'shared', 'dist', 'shared/profiles/data', 'shared/web/public'];
    const excluded = needed.filter((p) => lines().some((l) => l.replace(/\/$/, '') === p || l === `${p}/**` || l === '*.ts' || l === '*.json'));
    expect(excluded).toEqual([]);
  });
});

describe('.github/workflows/infra.yml', () => {
  it('builds every .bicep file with az bicep build and runs npm ci && npm test', () => {
    const wf = parseYaml(read('.github/workflows/infra.yml')) as { jobs: Record<string, { steps: { run?: string; with?: Record<string, unknown> }[] }> };
    const runs = Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ''));
    expect(runs.some((r) => r.includes('az bicep build') && r.includes('*.bicep'))).toBe(true);
    expect(runs.some((r) => /npm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /npm test\b/.test(r))).toBe(true);
    const node = Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.with?.['node-version'])).find((v) => v !== undefined);
    expect(node).toBe(20);
  });

  it('installs Chromium and fetches the pinned specs before npm test, so the browser test and the spec checks run in CI', () => {
    const wf = parseYaml(read('.github/workflows/infra.yml')) as { jobs: Record<string, { container?: string; steps: { run?: string }[] }> };
    const test = Object.values(wf.jobs).find((j) => j.steps.some((s) => /npm test\b/.test(s.run ?? '')));
    const runs = test?.steps.map((s) => s.run ?? '') ?? [];
    const at = (re: RegExp): number => runs.findIndex((r) => re.test(r));
    expect(test?.container).toMatch(/bookworm|debian/);
    expect(at(/apt-get install .*\bchromium\b/)).toBeGreaterThanOrEqual(0);
    expect(at(/npm run fetch-specs/)).toBeGreaterThan(at(/npm ci\b/));
    expect(at(/npm test\b/)).toBeGreaterThan(at(/npm run fetch-specs/));
    expect(at(/npm test\b/)).toBeGreaterThan(at(/apt-get install .*\bchromium\b/));
  });
});

/** Sample values for every output of main.bicep, as azd would store them after provisioning. */
function azdValues(): Record<string, string> {
  const values: Record<string, string> = { AZURE_ENV_NAME: 'dev', AZURE_SUBSCRIPTION_ID: '00000000-1111-2222-3333-444444444444' };
  for (const { name } of outputs(main)) values[name] = `sample-${name.toLowerCase().replace(/_/g, '-')}`;
  Object.assign(values, {
    AZURE_RESOURCE_GROUP: 'rg-dev',
    AZURE_STORAGE_BLOB_ENDPOINT: 'https://stabc123.blob.core.windows.net/',
    COSMOS_ENDPOINT: 'https://cosmos-abc123.documents.azure.com:443/',
    COSMOS_DATABASE: 'blobsight',
    COSMOS_CONTAINER: 'images',
    AZURE_OPENAI_ENDPOINT: 'https://cog-abc123.openai.azure.com/',
    AZURE_OPENAI_DEPLOYMENT: 'gpt-4o',
    OPENAI_API_VERSION: '2024-10-21',
    IMAGES_CONTAINER: 'images',
    DEADLETTER_CONTAINER: 'deadletter',
  });
  return values;
}

/** A scratch copy of the hooks, with stub `azd` (answers from a JSON file) and `az` (records its arguments) on PATH. */
function stage(values: Record<string, string>): { root: string; env: NodeJS.ProcessEnv; azLog: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'blobsight-hooks-'));
  scratch.push(root);
  mkdirSync(path.join(root, 'scripts', 'hooks'), { recursive: true });
  for (const f of ['postprovision.sh', 'postdeploy.sh', 'writeLocalSettings.mjs']) copyFileSync(path.join(repoRoot, 'scripts', 'hooks', f), path.join(root, 'scripts', 'hooks', f));
  const bin = path.join(root, 'bin');
  mkdirSync(bin);
  const valuesFile = path.join(root, 'azd-values.json');
  writeFileSync(valuesFile, JSON.stringify(values));
  const azLog = path.join(root, 'az.log');
  writeFileSync(
    path.join(bin, 'azd'),
    [
      '#!/bin/sh',
      'if [ "$1 $2" = "env get-values" ]; then cat "$FAKE_AZD_VALUES"; exit 0; fi',
      'if [ "$1 $2" = "env get-value" ]; then exec node -e \'const v = JSON.parse(require("fs").readFileSync(process.env.FAKE_AZD_VALUES, "utf8"))[process.argv[1]]; if (v === undefined) process.exit(1); process.stdout.write(v);\' "$3"; fi',
      'echo "stub azd: unexpected $*" >&2; exit 2',
    ].join('\n'),
  );
  writeFileSync(
    path.join(bin, 'az'),
    ['#!/bin/sh', 'for a in "$@"; do printf "%s\\n" "$a"; done >> "$FAKE_AZ_LOG"', 'echo "----" >> "$FAKE_AZ_LOG"', 'if [ "$1" = account ] && [ "${FAKE_AZ_SIGNED_IN:-1}" != 1 ]; then exit 1; fi', 'exit 0'].join('\n'),
  );
  chmodSync(path.join(bin, 'azd'), 0o755);
  chmodSync(path.join(bin, 'az'), 0o755);
  return { root, azLog, env: { PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}`, HOME: root, FAKE_AZD_VALUES: valuesFile, FAKE_AZ_LOG: azLog } };
}

function runHook(root: string, hook: string, env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', [path.join(root, 'scripts', 'hooks', hook)], { env, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function azCalls(log: string): string[][] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('----\n')
    .filter((c) => c.trim() !== '')
    .map((c) => c.replace(/\n$/, '').split('\n'));
}

// The sh hooks run under a POSIX shell; on Windows azd runs the pwsh twins, which these machines cannot execute.
const posix = process.platform !== 'win32';

describe.skipIf(!posix)('postprovision hook (sh)', () => {
  it('writes a local.settings.json the app accepts: cloud endpoints, no key, signed in as the developer', () => {
    const values = azdValues();
    const { root, env } = stage(values);
    const r = runHook(root, 'postprovision.sh', env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const written = JSON.parse(readFileSync(path.join(root, 'local.settings.json'), 'utf8')) as { Values: Record<string, string> };
    const config = loadConfig(written.Values);
    expect(config.storage).toEqual({ kind: 'identity', blobServiceUri: values['AZURE_STORAGE_BLOB_ENDPOINT'], clientId: undefined, setting: 'IMAGES_STORAGE__blobServiceUri' });
    expect(config.cosmos).toMatchObject({ endpoint: values['COSMOS_ENDPOINT'], key: undefined, createIfMissing: false });
    expect(config.model).toMatchObject({ provider: 'azure-openai', endpoint: values['AZURE_OPENAI_ENDPOINT'], deployment: 'gpt-4o', apiKey: undefined });
    expect(config.reconcile.deadLetterContainer).toBe('deadletter');
    expect(Object.keys(written.Values).filter((k) => /KEY|SECRET|PASSWORD|clientId|AZURE_CLIENT_ID/i.test(k))).toEqual([]);
    // The local host keeps its state in Azurite; only the app's data is in Azure.
    expect(written.Values['AzureWebJobsStorage']).toBe('UseDevelopmentStorage=true');
  });

  it('keeps the previous file as local.settings.json.bak when run again', () => {
    const { root, env } = stage(azdValues());
    writeFileSync(path.join(root, 'local.settings.json'), '{"IsEncrypted":false,"Values":{"MINE":"1"}}\n');
    expect(runHook(root, 'postprovision.sh', env).status).toBe(0);
    expect(readFileSync(path.join(root, 'local.settings.json.bak'), 'utf8')).toContain('"MINE"');
    expect(readFileSync(path.join(root, 'local.settings.json'), 'utf8')).not.toContain('"MINE"');
  });

  it('names the missing output and writes nothing when provisioning has not run', () => {
    const values = azdValues();
    delete values['COSMOS_ENDPOINT'];
    const { root, env } = stage(values);
    const r = runHook(root, 'postprovision.sh', env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('COSMOS_ENDPOINT');
    expect(existsSync(path.join(root, 'local.settings.json'))).toBe(false);
  });

  it('also reads the dotenv form azd prints without --output json', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'blobsight-settings-'));
    scratch.push(dir);
    const dotenv = Object.entries(azdValues())
      .map(([k, v]) => `${k}="${v}"`)
      .join('\n');
    const r = spawnSync('node', [path.join(repoRoot, 'scripts', 'hooks', 'writeLocalSettings.mjs'), path.join(dir, 'local.settings.json')], { input: dotenv, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    const written = JSON.parse(readFileSync(path.join(dir, 'local.settings.json'), 'utf8')) as { Values: Record<string, string> };
    expect(written.Values['COSMOS_ENDPOINT']).toBe('https://cosmos-abc123.documents.azure.com:443/');
  });
});

describe.skipIf(!posix)('postdeploy hook (sh)', () => {
  const deployment = (calls: string[][]): string[] | undefined => calls.find((c) => c.slice(0, 3).join(' ') === 'deployment group create');
  const flag = (args: string[], name: string): string | undefined => args[args.indexOf(name) + 1];
  const templateParameters = (args: string[]): Record<string, string> => {
    const start = args.indexOf('--parameters') + 1;
    const out: Record<string, string> = {};
    for (const a of args.slice(start)) {
      if (a.startsWith('--')) break;
      const eq = a.indexOf('=');
      out[a.slice(0, eq)] = a.slice(eq + 1);
    }
    return out;
  };

  it('waits for classifyBlob, then deploys infra/eventgrid-subscription.bicep with the azd outputs, the same way each run', () => {
    const values = azdValues();
    const { root, env, azLog } = stage(values);
    const first = runHook(root, 'postdeploy.sh', env);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    // Run again with the values in the environment, as azd passes them to hooks: the same deployment is requested.
    const second = runHook(root, 'postdeploy.sh', { ...env, ...values, FAKE_AZD_VALUES: path.join(root, 'no-such-file.json') });
    expect(second.status).toBe(0);

    const calls = azCalls(azLog);
    const deployments = calls.filter((c) => c.slice(0, 3).join(' ') === 'deployment group create');
    expect(deployments).toHaveLength(2);
    expect(deployments[1]).toEqual(deployments[0]);
    const args = deployment(calls) as string[];
    const showIndex = calls.findIndex((c) => c.slice(0, 3).join(' ') === 'functionapp function show');
    expect(showIndex).toBeGreaterThanOrEqual(0);
    expect(flag(calls[showIndex] as string[], '--function-name')).toBe('classifyBlob');
    expect(showIndex).toBeLessThan(calls.indexOf(args));

    expect(flag(args, '--template-file')).toBe(path.join(root, 'infra', 'eventgrid-subscription.bicep'));
    expect(existsSync(path.join(repoRoot, 'infra', 'eventgrid-subscription.bicep'))).toBe(true);
    expect(flag(args, '--resource-group')).toBe(values['AZURE_RESOURCE_GROUP']);
    expect(flag(args, '--subscription')).toBe(values['AZURE_SUBSCRIPTION_ID']);

    const passed = templateParameters(args);
    const declared = parameters(subscriptionTemplate);
    expect(Object.keys(passed).filter((k) => !declared.some((d) => d.name === k))).toEqual([]);
    expect(declared.filter((d) => d.defaultValue === null && passed[d.name] === undefined).map((d) => d.name)).toEqual([]);
    expect(passed).toMatchObject({
      systemTopicName: values['EVENTGRID_SYSTEM_TOPIC_NAME'],
      functionAppName: values['AZURE_FUNCTION_APP_NAME'],
      storageAccountName: values['AZURE_STORAGE_ACCOUNT_NAME'],
      subscriptionName: values['EVENTGRID_SUBSCRIPTION_NAME'],
      imagesContainerName: 'images',
      deadLetterContainerName: 'deadletter',
      functionName: 'classifyBlob',
    });
  });

  it('stops before touching Azure when the Azure CLI is not signed in', () => {
    const { root, env, azLog } = stage(azdValues());
    const r = runHook(root, 'postdeploy.sh', { ...env, FAKE_AZ_SIGNED_IN: '0' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('az login');
    expect(deployment(azCalls(azLog))).toBeUndefined();
  });

  it('passes the same template parameters from the pwsh hook as from the sh hook', () => {
    const names = (text: string): string[] => [...text.matchAll(/\b([a-zA-Z]+)=["$]/g)].map((m) => m[1] as string).filter((n) => parameters(subscriptionTemplate).some((p) => p.name === n)).sort();
    const sh = names(read('scripts/hooks/postdeploy.sh'));
    expect(sh.length).toBeGreaterThan(5);
    expect(names(read('scripts/hooks/postdeploy.ps1'))).toEqual(sh);
  });
});
