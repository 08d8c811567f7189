/** Checks a value against the strict JSON-schema subset, so the fake notices an answer rule that breaks the request's schema. */
import type { JsonSchemaObject } from './jsonSchemaObject';
import { deref, isPlainObject, schemaTypes } from './jsonSchemaObject';

/** Every way `value` breaks `schema`, as `path: problem` lines; empty when it conforms. */
export function schemaViolations(value: unknown, schema: JsonSchemaObject, root: JsonSchemaObject = schema, path = '$'): string[] {
  const node = deref(root, schema);
  const problems: string[] = [];

  if (node.anyOf !== undefined) {
    const matches = node.anyOf.some((branch) => schemaViolations(value, branch, root, path).length === 0);
    if (!matches) problems.push(`${path}: matches no anyOf branch`);
  }
  if (node.enum !== undefined && !node.enum.some((allowed) => sameJson(allowed, value))) {
    problems.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(node.enum)}`);
  }
  if ('const' in node && !sameJson(node.const, value)) {
    problems.push(`${path}: ${JSON.stringify(value)} is not the const ${JSON.stringify(node.const)}`);
  }

  const types = schemaTypes(node);
  if (types.length > 0 && !types.some((t) => hasType(value, t))) {
    problems.push(`${path}: expected ${types.join(' | ')}, got ${JSON.stringify(value)}`);
    return problems;
  }

  if (isPlainObject(value) && (types.includes('object') || node.properties !== undefined)) {
    const properties = node.properties ?? {};
    for (const key of node.required ?? []) {
      if (!(key in value)) problems.push(`${path}.${key}: required property missing`);
    }
    for (const [key, child] of Object.entries(value)) {
      const childSchema = properties[key];
      if (childSchema !== undefined) {
        problems.push(...schemaViolations(child, childSchema, root, `${path}.${key}`));
      } else if (node.additionalProperties === false) {
        problems.push(`${path}.${key}: property not allowed by the schema`);
      } else if (isPlainObject(node.additionalProperties)) {
        problems.push(...schemaViolations(child, node.additionalProperties, root, `${path}.${key}`));
      }
    }
  }
  if (Array.isArray(value) && node.items !== undefined) {
    const items = node.items;
    value.forEach((item, i) => problems.push(...schemaViolations(item, items, root, `${path}[${i}]`)));
  }
  return problems;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    default:
      return false;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
