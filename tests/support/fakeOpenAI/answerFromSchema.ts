/** Builds a schema-conformant answer, the fake model's default reply to a json_schema request. */
import type { JsonSchemaObject } from './jsonSchemaObject';
import { deref, schemaTypes } from './jsonSchemaObject';

/**
 * A value that conforms to `schema`. `picks` maps a dot-joined property path ('label', 'tags.red') to the value to
 * put there; otherwise: enum → its first value, boolean → false, number → 0.9, integer → 0, string → '', array → [],
 * object → every property filled the same way, nullable → the non-null branch.
 */
export function answerFromSchema(schema: JsonSchemaObject, picks: Record<string, unknown> = {}): unknown {
  return build(schema, schema, '', picks, 0);
}

function build(schema: JsonSchemaObject, root: JsonSchemaObject, path: string, picks: Record<string, unknown>, depth: number): unknown {
  if (Object.prototype.hasOwnProperty.call(picks, path) && path !== '') return picks[path];
  // A recursive schema is satisfiable only through a null or empty branch; stop well before a runaway.
  if (depth > 32) return null;
  const node = deref(root, schema);
  if ('const' in node) return node.const;
  if (node.enum !== undefined && node.enum.length > 0) return node.enum[0];
  if (node.anyOf !== undefined && node.anyOf.length > 0) {
    const branches = node.anyOf.map((b) => deref(root, b));
    const preferred = branches.find((b) => !(schemaTypes(b).length === 1 && schemaTypes(b)[0] === 'null')) ?? branches[0];
    return preferred === undefined ? null : build(preferred, root, path, picks, depth + 1);
  }
  const types = schemaTypes(node);
  const type = types.find((t) => t !== 'null') ?? types[0];
  switch (type) {
    case 'object': {
      const answer: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        answer[key] = build(child, root, path === '' ? key : `${path}.${key}`, picks, depth + 1);
      }
      return answer;
    }
    case 'array':
      return [];
    case 'string':
      return '';
    case 'number':
      return 0.9;
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return node.properties === undefined ? {} : build({ ...node, type: 'object' }, root, path, picks, depth + 1);
  }
}
