#!/usr/bin/env node
// Launcher of the `blobsight` command. It runs the compiled CLI in dist/, which `npm ci` builds through the
// `prepare` script. If dist/ is missing (installed with --ignore-scripts, or `npm run clean`), it builds it once
// with the project's TypeScript and then runs it, so `npx blobsight` never needs a manual build step.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'shared', 'cli', 'main.js');

if (!existsSync(entry)) {
  process.stderr.write('blobsight: first run, compiling the CLI (tsc -p tsconfig.build.json)...\n');
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', path.join(root, 'tsconfig.build.json')], { stdio: ['ignore', 'ignore', 'inherit'], cwd: root });
  } catch (e) {
    process.stderr.write(`blobsight: could not build the CLI: ${e instanceof Error ? e.message : String(e)}\nRun \`npm ci\` (or \`npm run build\`) in ${root}.\n`);
    process.exit(2);
  }
}

require(entry).main(process.argv);
