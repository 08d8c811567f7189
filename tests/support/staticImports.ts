/**
 * The modules a set of entry files loads at startup: static `import`/`export ... from` followed through relative
 * paths, type-only imports and dynamic `import()` left out (neither runs when the module loads). Bare specifiers are
 * reported as package names with the first file that imports them.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import ts from 'typescript';

export interface StaticImports {
  /** Project files reached, absolute paths. */
  files: Set<string>;
  /** Package name -> first project file (relative to root) importing it statically. */
  packages: Map<string, string>;
}

export function staticImports(root: string, entries: readonly string[]): StaticImports {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const queue = entries.map((e) => path.resolve(root, e));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    for (const spec of runtimeSpecifiers(source)) {
      if (spec.startsWith('.')) {
        const target = resolveRelative(path.dirname(file), spec);
        if (target !== undefined) queue.push(target);
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
        if (!packages.has(name)) packages.set(name, path.relative(root, file));
      }
    }
  }
  return { files, packages };
}

function runtimeSpecifiers(source: ts.SourceFile): string[] {
  const out: string[] = [];
  for (const s of source.statements) {
    if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier)) {
      const clause = s.importClause;
      // `import type {...}` and imports whose every binding is `type` are erased by the compiler.
      const erased = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!erased) out.push(s.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(s) && s.moduleSpecifier !== undefined && ts.isStringLiteral(s.moduleSpecifier) && !s.isTypeOnly) {
      out.push(s.moduleSpecifier.text);
    }
  }
  return out;
}

function resolveRelative(dir: string, spec: string): string | undefined {
  const base = path.resolve(dir, spec.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  // JSON and other assets carry no imports of their own.
  return undefined;
}
