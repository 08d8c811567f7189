/**
 * What `azd deploy` ships: the zip azd uploads (the project minus .funcignore), what the remote build leaves in
 * node_modules (production closure minus the pruned detector), and that nothing the Functions host loads at startup
 * needs the detector or a devDependency.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { DETECTOR_PACKAGES, funcignored, productionClosure, uploadedFiles } from '../support/deployPackage';
import { staticImports } from '../support/staticImports';

const ROOT = path.resolve(__dirname, '..', '..');
const PRUNE = path.join(ROOT, 'scripts', 'pruneDeployPackage.mjs');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
const temps: string[] = [];
const MB = 2 ** 20;

afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

// Reads node_modules (du of ~90 packages) and parses ~100 sources: seconds on a loaded machine, nothing timed.
describe('what azd deploy uploads', { timeout: 60_000 }, () => {
  it('is the sources the remote build needs, without node_modules, tests, infra or local settings', () => {
    const files = uploadedFiles(ROOT).map((f) => f.path);
    for (const needed of ['package.json', 'package-lock.json', 'host.json', 'tsconfig.json', 'tsconfig.build.json', 'functions/classifyBlob.ts', 'shared/pipeline/processBlobCreated.ts', 'scripts/pruneDeployPackage.mjs']) {
      expect(files, `${needed} must be in the package`).toContain(needed);
    }
    const leaked = files.filter((f) => /^(node_modules|tests|infra|\.git|\.vitest|\.specs|scripts\/hooks)\//.test(f) || /^local\.settings\.json$|\.log$/.test(f));
    expect(leaked).toEqual([]);
  });

  it('.funcignore keeps test builds, caches, settings and source maps out, whether or not they exist here now', () => {
    const ignored = funcignored(ROOT);
    const out = ['node_modules/sharp/package.json', 'tests/unit/a.test.ts', 'tests/output/bench/perf.json', '.vitest/perf-dist-1/scripts/worker.js', '.specs/eventgrid.json', 'infra/main.bicep', 'scripts/hooks/prepackage.sh', 'local.settings.json', '.git/config', 'dist/functions/classifyBlob.js.map', '.env'];
    const kept = ['package.json', 'package-lock.json', 'host.json', 'scripts/pruneDeployPackage.mjs', 'dist/functions/classifyBlob.js', 'shared/web/public/index.html'];
    expect(out.filter((p) => !ignored(p))).toEqual([]);
    expect(kept.filter((p) => ignored(p))).toEqual([]);
  });

  it('ends the remote build by pruning devDependencies and the embedded detector (npm run build:azure)', () => {
    expect(pkg.scripts['build:azure']).toBe('node scripts/pruneDeployPackage.mjs');
  });

  it('the prune step removes the detector packages, and keeps them when BLOBSIGHT_DEPLOY_LOCAL_DETECTOR=true', () => {
    const run = (env: Record<string, string>): string[] => {
      const dir = mkdtempSync(path.join(tmpdir(), 'blobsight-prune-'));
      temps.push(dir);
      writeFileSync(path.join(dir, 'package.json'), '{"name":"app"}');
      for (const name of [...DETECTOR_PACKAGES, 'sharp', '@azure/cosmos']) {
        mkdirSync(path.join(dir, 'node_modules', name), { recursive: true });
        writeFileSync(path.join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name }));
      }
      execFileSync(process.execPath, [PRUNE, '--skip-npm-prune'], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'pipe' });
      return ['sharp', '@azure/cosmos', ...DETECTOR_PACKAGES].filter((n) => existsSync(path.join(dir, 'node_modules', n)));
    };
    expect(run({})).toEqual(['sharp', '@azure/cosmos']);
    expect(run({ BLOBSIGHT_DEPLOY_LOCAL_DETECTOR: 'true' })).toEqual(['sharp', '@azure/cosmos', ...DETECTOR_PACKAGES]);
  });

  it('without the detector the production node_modules loses every large package only the detector needs', () => {
    if (!existsSync(path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-core'))) return void console.warn('detector packages not installed: skipped');
    const all = productionClosure(ROOT);
    const kept = productionClosure(ROOT, DETECTOR_PACKAGES);
    const keptKeys = new Set(kept.map((p) => p.key));
    const detectorOnly = all.filter((p) => !keptKeys.has(p.key));
    const sum = (ps: { bytes: number }[]): number => ps.reduce((s, p) => s + p.bytes, 0);
    // What the prune list leaves behind of the detector's own dependencies is small change (long, seedrandom types...).
    const pruneList = readFileSync(PRUNE, 'utf8');
    const leftBehind = detectorOnly.filter((p) => !pruneList.includes(`'${p.name}'`));
    expect(sum(leftBehind)).toBeLessThan(2 * MB);
    expect(kept.map((p) => p.name)).not.toContain('@vladmandic/human');
    expect(sum(detectorOnly)).toBeGreaterThan(100 * MB);
    // Everything the service needs on Linux x64: sharp and libvips, the Azure SDKs, openai, js-tiktoken (about 135 MB),
    // plus the Azure Monitor OpenTelemetry distro (about 90 MB: sdk-node with its exporters and instrumentations,
    // deduplicated by pinning our own @opentelemetry packages to the distro's versions; unpinned it was 150 MB more).
    expect(sum(kept)).toBeLessThan(240 * MB);
    console.log(`production node_modules: ${(sum(all) / MB).toFixed(1)} MB with the detector, ${(sum(kept) / MB).toFixed(1)} MB without (${kept.length} packages)`);
  });

  it('the functions the host loads at startup import neither the detector nor a devDependency', () => {
    const entries = readdirSync(path.join(ROOT, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => path.join('functions', f));
    const { packages, files } = staticImports(ROOT, entries);
    expect(files.size).toBeGreaterThan(30);
    expect(packages.has('sharp')).toBe(true);
    for (const name of DETECTOR_PACKAGES) expect(packages.get(name), `${name} is imported at startup`).toBeUndefined();
    const notProduction = [...packages].filter(([name]) => pkg.dependencies[name] === undefined).map(([name, from]) => `${name} (from ${from})`);
    expect(notProduction).toEqual([]);
  });
});
