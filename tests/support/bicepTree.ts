/** Reads Bicep with tree-sitter-bicep (no Bicep compiler here) and answers the questions the infra tests ask of the tree. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { Node, Tree } from 'web-tree-sitter';
import { Language, Parser } from 'web-tree-sitter';

export interface BicepFile {
  /** Path relative to the repository root, with forward slashes. */
  rel: string;
  source: string;
  tree: Tree;
  root: Node;
}

export interface SyntaxProblem {
  kind: 'ERROR' | 'MISSING';
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  text: string;
}

export interface ResourceDeclaration {
  symbol: string;
  /** Resource type without the API version, e.g. Microsoft.Storage/storageAccounts. */
  type: string;
  /** The part after '@', or null when the type has none. */
  apiVersion: string | null;
  existing: boolean;
  /** `if (...)` condition, when the resource is conditional. */
  condition: Node | null;
  /** The resource body, also for loops and conditions. */
  body: Node | null;
  node: Node;
  file: string;
}

let parserPromise: Promise<Parser> | undefined;

/** One parser per worker: loading the grammar's wasm is the slow part. */
function getParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const wasm = path.resolve(__dirname, '..', '..', 'node_modules', 'tree-sitter-bicep', 'tree-sitter-bicep.wasm');
    const language = await Language.load(wasm);
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

export async function parseBicep(source: string, rel = '<inline>'): Promise<BicepFile> {
  const parser = await getParser();
  const tree = parser.parse(source);
  if (tree === null) throw new Error(`tree-sitter returned no tree for ${rel}`);
  return { rel, source, tree, root: tree.rootNode };
}

/** Every .bicep file under `dir`, parsed, in a stable order. */
export async function parseBicepDir(repoRoot: string, dir: string): Promise<BicepFile[]> {
  const files = listFiles(path.join(repoRoot, dir), '.bicep').sort();
  const parsed: BicepFile[] = [];
  for (const f of files) parsed.push(await parseBicep(readFileSync(f, 'utf8'), path.relative(repoRoot, f).split(path.sep).join('/')));
  return parsed;
}

function listFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, ext));
    else if (entry.name.endsWith(ext)) out.push(full);
  }
  return out;
}

/** ERROR and MISSING nodes, with their position, so a failing test says where the syntax broke. */
export function syntaxProblems(root: Node): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  walk(root, (n) => {
    if (n.isError || n.isMissing) {
      problems.push({
        kind: n.isMissing ? 'MISSING' : 'ERROR',
        line: n.startPosition.row + 1,
        column: n.startPosition.column + 1,
        text: n.isMissing ? n.type : n.text.slice(0, 80),
      });
    }
  });
  return problems;
}

export function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  for (const child of node.children) if (child !== null) walk(child, visit);
}

export function descendantsOfType(node: Node, type: string): Node[] {
  const out: Node[] = [];
  walk(node, (n) => {
    if (n.type === type) out.push(n);
  });
  return out;
}

function named(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

/** The text of a string literal; undefined when it interpolates (`${...}`) or is not a string. */
export function stringValue(node: Node | null | undefined): string | undefined {
  if (node?.type !== 'string') return undefined;
  let out = '';
  for (const c of named(node)) {
    if (c.type === 'string_content') out += c.text;
    else if (c.type === 'escape_sequence') out += unescape(c.text);
    else return undefined;
  }
  return out;
}

function unescape(seq: string): string {
  const map: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };
  return map[seq] ?? seq;
}

/** Key of an object property, whether written as an identifier or a quoted string. */
export function propertyKey(prop: Node): string | undefined {
  const key = named(prop)[0];
  if (key === undefined) return undefined;
  return key.type === 'string' ? stringValue(key) : key.text;
}

/** Value node of an object property. */
export function propertyValue(prop: Node): Node | undefined {
  return named(prop).filter((c) => c.type !== 'comment')[1];
}

/** The properties of an object literal, in order. */
export function objectProperties(obj: Node | null | undefined): Node[] {
  if (obj?.type !== 'object') return [];
  return named(obj).filter((c) => c.type === 'object_property');
}

/** Value node of `key` in an object literal, following a path of keys. */
export function property(obj: Node | null | undefined, ...keys: string[]): Node | undefined {
  let current: Node | undefined = obj ?? undefined;
  for (const key of keys) {
    const prop = objectProperties(current).find((p) => propertyKey(p) === key);
    if (prop === undefined) return undefined;
    current = propertyValue(prop);
  }
  return current;
}

/** A JSON value for a literal expression (string without interpolation, number, boolean, null, array, object). */
export function literal(node: Node): unknown {
  switch (node.type) {
    case 'string': {
      const s = stringValue(node);
      if (s === undefined) throw new Error(`not a literal string: ${node.text}`);
      return s;
    }
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'array':
      return named(node)
        .filter((c) => c.type !== 'comment')
        .map(literal);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const p of objectProperties(node)) {
        const key = propertyKey(p);
        const value = propertyValue(p);
        if (key === undefined || value === undefined) throw new Error(`malformed property: ${p.text}`);
        out[key] = literal(value);
      }
      return out;
    }
    default:
      throw new Error(`not a literal (${node.type}): ${node.text.slice(0, 80)}`);
  }
}

/** The comment on the same line after `node`, if any (e.g. a role's name beside its GUID). */
export function trailingComment(node: Node): string | undefined {
  let next = node.nextSibling;
  while (next !== null && next.type !== 'comment' && next.startPosition.row === node.endPosition.row && !next.isNamed) next = next.nextSibling;
  if (next?.type === 'comment' && next.startPosition.row === node.endPosition.row) return next.text.replace(/^\/\/\s*/, '').trim();
  return undefined;
}

/** Top-level and nested resource declarations, with type, API version and body. */
export function resources(file: BicepFile): ResourceDeclaration[] {
  return descendantsOfType(file.root, 'resource_declaration').map((node) => {
    const [symbolNode, typeNode] = named(node);
    const typeText = stringValue(typeNode) ?? '';
    const at = typeText.indexOf('@');
    const existing = node.children.some((c) => c?.type === 'existing');
    let body: Node | null = null;
    let condition: Node | null = null;
    const last = named(node).at(-1) ?? null;
    if (last?.type === 'object') body = last;
    else if (last?.type === 'if_statement') {
      condition = named(last)[0] ?? null;
      body = named(last).find((c) => c.type === 'object') ?? null;
    } else if (last?.type === 'for_statement') {
      body = named(last).find((c) => c.type === 'object') ?? null;
    }
    return {
      symbol: symbolNode?.text ?? '',
      type: at === -1 ? typeText : typeText.slice(0, at),
      apiVersion: at === -1 ? null : typeText.slice(at + 1),
      existing,
      condition,
      body,
      node,
      file: file.rel,
    };
  });
}

export interface ParameterDeclaration {
  name: string;
  type: string;
  defaultValue: Node | null;
  node: Node;
}

export function parameters(file: BicepFile): ParameterDeclaration[] {
  return named(file.root)
    .filter((n) => n.type === 'parameter_declaration')
    .map((node) => {
      const parts = named(node);
      const hasDefault = node.children.some((c) => c?.type === '=');
      return { name: parts[0]?.text ?? '', type: parts[1]?.text ?? '', defaultValue: hasDefault ? (parts.at(-1) ?? null) : null, node };
    });
}

/** Value node of each `var`. */
export function variables(file: BicepFile): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const node of named(file.root).filter((n) => n.type === 'variable_declaration')) {
    const parts = named(node);
    const name = parts[0]?.text;
    const value = parts.at(-1);
    if (name !== undefined && value !== undefined) out.set(name, value);
  }
  return out;
}

export interface OutputDeclaration {
  name: string;
  value: Node | null;
}

export function outputs(file: BicepFile): OutputDeclaration[] {
  return named(file.root)
    .filter((n) => n.type === 'output_declaration')
    .map((node) => ({ name: named(node)[0]?.text ?? '', value: named(node).at(-1) ?? null }));
}

export interface ModuleDeclaration {
  symbol: string;
  /** Path of the module file as written. */
  source: string;
  body: Node | null;
}

export function modules(file: BicepFile): ModuleDeclaration[] {
  return descendantsOfType(file.root, 'module_declaration').map((node) => {
    const [symbolNode, sourceNode] = named(node);
    const last = named(node).at(-1) ?? null;
    return { symbol: symbolNode?.text ?? '', source: stringValue(sourceNode) ?? '', body: last?.type === 'object' ? last : null };
  });
}

/** Name of the function a call expression calls (`listKeys`, `az.listKeys`, `storage.listKeys`: all listKeys). */
export function calledFunction(call: Node): string {
  const fn = call.childForFieldName('function') ?? named(call)[0];
  if (fn === null || fn === undefined) return '';
  if (fn.type === 'member_expression') return fn.childForFieldName('property')?.text ?? fn.text;
  return fn.text;
}

/** Arguments of a call expression. */
export function callArguments(call: Node): Node[] {
  const args = call.childForFieldName('arguments') ?? named(call).find((c) => c.type === 'arguments');
  return args === null || args === undefined ? [] : named(args).filter((c) => c.type !== 'comment');
}
