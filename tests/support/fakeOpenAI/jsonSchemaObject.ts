/** The JSON-schema shape the fake reads from `response_format.json_schema.schema`, and local `$ref` resolution. */

export interface JsonSchemaObject {
  type?: string | string[];
  properties?: Record<string, JsonSchemaObject>;
  required?: string[];
  additionalProperties?: boolean | JsonSchemaObject;
  items?: JsonSchemaObject;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchemaObject[];
  $ref?: string;
  $defs?: Record<string, JsonSchemaObject>;
  definitions?: Record<string, JsonSchemaObject>;
  description?: string;
  [keyword: string]: unknown;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Resolves `#`, `#/$defs/x`, `#/definitions/x` (and deeper JSON pointers) against the root; undefined when it does not. */
export function resolveRef(root: JsonSchemaObject, ref: string): JsonSchemaObject | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isPlainObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return isPlainObject(node) ? (node) : undefined;
}

/** Follows `$ref` chains (bounded, so a cycle of bare refs cannot loop forever). */
export function deref(root: JsonSchemaObject, schema: JsonSchemaObject): JsonSchemaObject {
  let current = schema;
  for (let hops = 0; hops < 32 && typeof current.$ref === 'string'; hops++) {
    const next = resolveRef(root, current.$ref);
    if (next === undefined) return current;
    current = next;
  }
  return current;
}

export function schemaTypes(schema: JsonSchemaObject): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((t): t is string => typeof t === 'string');
  return [];
}
