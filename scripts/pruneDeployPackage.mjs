#!/usr/bin/env node
// `npm run build:azure`: the last step of the remote build on Azure (Oryx runs `npm install`, `npm run build`, then
// `npm run build:azure` when package.json has it). What stays in node_modules is what every cold instance mounts:
// - devDependencies (TypeScript, vitest, Azurite, eslint, playwright...) only served the build; `npm prune --omit=dev`
//   drops them;
// - the embedded detector (@tensorflow/*, @vladmandic/human, ~130 MB) serves only MODEL_PROVIDER=local-detector,
//   which infra/ never sets; it is removed unless BLOBSIGHT_DEPLOY_LOCAL_DETECTOR=true. The service imports it only
//   for that provider (createServices' dynamic import), so nothing else notices it is gone.
// Never run it in a development checkout: it deletes installed packages (`npm ci` brings them back).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';

export const DETECTOR_PACKAGES = ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@vladmandic/human'];

const root = process.cwd();
const keepDetector = (process.env.BLOBSIGHT_DEPLOY_LOCAL_DETECTOR ?? '').toLowerCase() === 'true';
// Tests exercise the removal without running npm on a fake tree.
const skipNpm = process.argv.includes('--skip-npm-prune');

if (!existsSync(path.join(root, 'package.json')) || !existsSync(path.join(root, 'node_modules'))) {
  console.error(`pruneDeployPackage: run it in the built app folder (package.json and node_modules); ${root} has none.`);
  process.exit(1);
}
if (!skipNpm) {
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
if (keepDetector) {
  console.log('pruneDeployPackage: BLOBSIGHT_DEPLOY_LOCAL_DETECTOR=true, keeping the embedded detector packages.');
} else {
  const removed = DETECTOR_PACKAGES.filter((name) => existsSync(path.join(root, 'node_modules', name)));
  for (const name of removed) rmSync(path.join(root, 'node_modules', name), { recursive: true, force: true });
  console.log(`pruneDeployPackage: removed ${removed.length === 0 ? 'nothing (already absent)' : removed.join(', ')}; set BLOBSIGHT_DEPLOY_LOCAL_DETECTOR=true to keep them.`);
}
