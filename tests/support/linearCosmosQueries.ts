/**
 * Makes the in-process Cosmos DB server's queries linear in the number of documents, for tests that hold tens of
 * thousands. `@zeit/cosmosdb-query` 0.7.2 (used by `@vercel/cosmosdb-server` 1.0.1, the latest of both) builds the
 * FROM set with `$c.reduce(($, c) => [...$, { c }], [])`, copying the array once per document: one query over
 * 20,000 documents takes 5 to 25 s. This rewrites that one generated expression into the equivalent
 * `filter(...).map(...)` (same documents, same order, same undefined check); the rest of the engine, including
 * every query it refuses, is untouched. Throws when the generated code no longer has that shape, so a newer engine
 * is noticed instead of silently slow.
 */
import { createRequire } from 'node:module';

const ROOT_FROM = /\$c\.reduce\(\(\$, (\w+)\) => typeof \1 !== "undefined" \? \[\.\.\.\$, \{\s*(\w+): \1\s*\}\] : \$, \[\]\)/;

interface QueryLike {
  readonly code: string;
}

let patched = false;

export function useLinearCosmosQueries(): void {
  if (patched) return;
  const requireFromServer = createRequire(createRequire(__filename).resolve('@vercel/cosmosdb-server'));
  const { default: query } = requireFromServer('@zeit/cosmosdb-query') as { default: (q: string) => QueryLike };
  const proto = Object.getPrototypeOf(query('SELECT * FROM c')) as object;
  const get = Reflect.getOwnPropertyDescriptor(proto, 'code')?.get as ((this: QueryLike) => string) | undefined;
  if (get === undefined) throw new Error('@zeit/cosmosdb-query has no `code` getter any more: revisit tests/support/linearCosmosQueries.ts');
  Object.defineProperty(proto, 'code', {
    configurable: true,
    get(this: QueryLike): string {
      const code = get.call(this);
      return code.replace(ROOT_FROM, (_m, doc: string, alias: string) => `$c.filter((${doc}) => typeof ${doc} !== "undefined").map((${doc}) => ({ ${alias}: ${doc} }))`);
    },
  });
  const probe = query('SELECT c.id FROM c WHERE c.id = @id').code;
  if (probe.includes('[...$')) throw new Error('the FROM clause of @zeit/cosmosdb-query changed shape: revisit tests/support/linearCosmosQueries.ts');
  patched = true;
}
