#!/usr/bin/env node
// Downloads the published spec files the tests read (tests/support/specs.manifest.json) at their pinned commits,
// verifies each SHA-256, and writes them into the manifest's git-ignored folder. Nothing is written for a file
// whose hash does not match; the run then fails naming it.
// Usage: node scripts/fetchSpecs.mjs [--base <url>] [--out <dir>]   (--base replaces https://raw.githubusercontent.com)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'tests', 'support', 'specs.manifest.json'), 'utf8'));
const { values } = parseArgs({ options: { base: { type: 'string' }, out: { type: 'string' } } });
const base = (values.base ?? manifest.baseUrl).replace(/\/$/, '');
const out = path.resolve(root, values.out ?? manifest.folder);
const ATTEMPTS = 3;
const TIMEOUT_MS = 60_000;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function download(url) {
  let last;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    } catch (e) {
      last = e;
      if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
  throw new Error(`${url}: ${last instanceof Error ? last.message : String(last)}`);
}

/** The ```json blocks of a Markdown page, each without the fence's indentation, newline-terminated. */
function fencedJsonBlocks(markdown) {
  const blocks = [];
  let open;
  for (const line of markdown.split('\n').map((l) => l.replace(/\r$/, ''))) {
    if (open === undefined) {
      const m = /^(\s*)```\s*json\s*$/i.exec(line);
      if (m) open = { indent: m[1].length, lines: [] };
    } else if (/^\s*```\s*$/.test(line)) {
      blocks.push(open.lines.join('\n') + '\n');
      open = undefined;
    } else {
      open.lines.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
    }
  }
  return blocks;
}

function extract(bytes, rule) {
  const want = rule.fencedJson.firstEvent;
  for (const block of fencedJsonBlocks(bytes.toString('utf8'))) {
    let parsed;
    try {
      parsed = JSON.parse(block);
    } catch {
      continue;
    }
    const first = Array.isArray(parsed) ? parsed[0] : undefined;
    if (first && Object.entries(want).every(([k, v]) => first[k] === v)) return Buffer.from(block, 'utf8');
  }
  throw new Error(`no \`\`\`json block whose first event has ${JSON.stringify(want)}`);
}

mkdirSync(out, { recursive: true });
const failures = [];
const pages = new Map();
for (const [i, file] of manifest.files.entries()) {
  const target = path.join(out, file.name);
  const label = `[${i + 1}/${manifest.files.length}] ${file.name}`;
  if (existsSync(target) && sha256(readFileSync(target)) === file.sha256) {
    console.log(`${label}: already there, sha256 ok`);
    continue;
  }
  const url = `${base}/${file.repo}/${file.commit}/${file.path}`;
  try {
    if (!pages.has(url)) pages.set(url, download(url));
    const page = await pages.get(url);
    const bytes = file.extract === undefined ? page : extract(page, file.extract);
    const actual = sha256(bytes);
    if (actual !== file.sha256) throw new Error(`sha256 ${actual} does not match the pinned ${file.sha256} (from ${url})`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(`${target}.part`, bytes);
    renameSync(`${target}.part`, target);
    console.log(`${label}: ${bytes.length} bytes, sha256 ok`);
  } catch (e) {
    failures.push(file.name);
    console.error(`${label}: FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }
}
if (failures.length > 0) {
  console.error(`\n${failures.length} spec file(s) could not be fetched and verified: ${failures.join(', ')}`);
  process.exit(1);
}
console.log(`\nAll ${manifest.files.length} spec files are in ${path.relative(process.cwd(), out) || '.'}`);
