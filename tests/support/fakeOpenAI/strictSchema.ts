/** Strict structured-output rules: refuses a schema the service would refuse with `strict: true`, with its kind of message. */
import type { JsonSchemaObject } from './jsonSchemaObject';
import { isPlainObject, resolveRef, schemaTypes } from './jsonSchemaObject';
import {
  STRICT_LIMITS,
  STRICT_ROOT_ONLY_KEYWORDS,
  STRICT_SUPPORTED_KEYWORDS,
  STRICT_TYPES,
} from './serviceContract';
import { invalidRequest, type ServiceError } from './serviceError';

export type { JsonSchemaObject } from './jsonSchemaObject';

export interface StrictSchemaTarget {
  /** `response_format` or `tools[0].function.parameters`: where the service says the problem is. */
  param: string;
  /** The json_schema / function name quoted in the message. */
  name: string;
  kind: 'response_format' | 'function';
}

interface Totals {
  properties: number;
  enumValues: number;
  stringChars: number;
}

/** Throws the service's 400 when `schema` breaks a strict-mode rule; returns nothing when it is acceptable. */
export function validateStrictSchema(schema: unknown, target: StrictSchemaTarget): void {
  const fail = (detail: string): ServiceError =>
    invalidRequest(
      `Invalid schema for ${target.kind} '${target.name}': ${detail}`,
      target.param,
      target.kind === 'function' ? 'invalid_function_parameters' : null,
    );

  if (!isPlainObject(schema)) throw fail(`schema must be a JSON Schema of 'type: "object"', got '${describe(schema)}'.`);
  const root = schema as JsonSchemaObject;
  if (root.type !== 'object') {
    throw fail(`schema must be a JSON Schema of 'type: "object"', got 'type: "${typeof root.type === 'string' ? root.type : 'None'}"'.`);
  }
  if (root.anyOf !== undefined) throw fail(`In context=(), 'anyOf' is not permitted at the root: the root must be an object, not a union.`);

  const totals: Totals = { properties: 0, enumValues: 0, stringChars: 0 };
  walk(root, root, [], 0, true, totals, fail);

  if (totals.properties > STRICT_LIMITS.maxTotalProperties) {
    throw fail(`Expected at most ${STRICT_LIMITS.maxTotalProperties} properties in total, but received ${totals.properties}.`);
  }
  if (totals.enumValues > STRICT_LIMITS.maxTotalEnumValues) {
    throw fail(
      `Expected at most ${STRICT_LIMITS.maxTotalEnumValues} enum values in total within a single schema when using structured outputs, but received ${totals.enumValues}. Consider reducing the number of enums, or use 'strict: false' to opt out of structured outputs.`,
    );
  }
  if (totals.stringChars > STRICT_LIMITS.maxTotalStringChars) {
    throw fail(
      `Expected the total string length of property names, definition names, enum values and const values to be at most ${STRICT_LIMITS.maxTotalStringChars}, but received ${totals.stringChars}.`,
    );
  }
}

function walk(
  node: JsonSchemaObject,
  root: JsonSchemaObject,
  context: string[],
  objectDepth: number,
  isRoot: boolean,
  totals: Totals,
  fail: (detail: string) => ServiceError,
): void {
  const where = `In context=${pythonTuple(context)}, `;

  for (const keyword of Object.keys(node)) {
    if (STRICT_SUPPORTED_KEYWORDS.has(keyword)) continue;
    if (isRoot && STRICT_ROOT_ONLY_KEYWORDS.has(keyword)) continue;
    throw fail(`${where}'${keyword}' is not permitted.`);
  }

  const child = (value: unknown, path: string[], depth: number): void => {
    if (!isPlainObject(value)) throw fail(`In context=${pythonTuple(path)}, schema must be an object, got '${describe(value)}'.`);
    walk(value, root, path, depth, false, totals, fail);
  };

  for (const defsKey of ['$defs', 'definitions'] as const) {
    const defs = node[defsKey];
    if (defs === undefined) continue;
    if (!isPlainObject(defs)) throw fail(`${where}'${defsKey}' must be an object.`);
    for (const [name, definition] of Object.entries(defs)) {
      totals.stringChars += name.length;
      child(definition, [...context, defsKey, name], 0);
    }
  }

  if (node.$ref !== undefined) {
    if (typeof node.$ref !== 'string' || resolveRef(root, node.$ref) === undefined) {
      throw fail(`${where}reference ${JSON.stringify(node.$ref)} could not be resolved; only local references (#/$defs/...) are supported.`);
    }
    // Recursion through $ref is allowed, so a reference is checked to resolve, not followed.
  }

  if (node.type === undefined && node.anyOf === undefined && node.$ref === undefined && node.enum === undefined && node.const === undefined) {
    throw fail(`${where}schema must have a 'type' key.`);
  }
  if (node.type !== undefined) {
    const listed = Array.isArray(node.type) ? node.type : [node.type];
    if (listed.length === 0 || !listed.every((t) => typeof t === 'string' && STRICT_TYPES.has(t))) {
      throw fail(`${where}${JSON.stringify(node.type)} is not a valid type; expected one of string, number, integer, boolean, object, array, null.`);
    }
  }
  const types = schemaTypes(node);

  if (types.includes('object')) {
    const depth = objectDepth + 1;
    if (depth > STRICT_LIMITS.maxDepth) {
      throw fail(`${where}object nesting depth ${depth} exceeds the limit of ${STRICT_LIMITS.maxDepth} levels.`);
    }
    if (node.additionalProperties !== false) {
      throw fail(`${where}'additionalProperties' is required to be supplied and to be false.`);
    }
    const properties = node.properties ?? {};
    if (!isPlainObject(properties)) throw fail(`${where}'properties' must be an object.`);
    const keys = Object.keys(properties);
    const required = node.required;
    const missing = keys.filter((k) => !Array.isArray(required) || !required.includes(k));
    if (!Array.isArray(required) || missing.length > 0) {
      throw fail(
        `${where}'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0] ?? keys[0] ?? ''}'.`,
      );
    }
    const extra = required.find((k) => typeof k !== 'string' || !keys.includes(k));
    if (extra !== undefined) throw fail(`${where}Extra required key '${String(extra)}' supplied.`);
    totals.properties += keys.length;
    for (const key of keys) {
      totals.stringChars += key.length;
      child(properties[key], [...context, 'properties', key], depth);
    }
  } else if (node.properties !== undefined || node.additionalProperties !== undefined || node.required !== undefined) {
    throw fail(`${where}'properties', 'required' and 'additionalProperties' are only permitted on a schema of type 'object'.`);
  }

  if (types.includes('array')) {
    if (node.items === undefined) throw fail(`${where}array schema missing items.`);
    child(node.items, [...context, 'items'], objectDepth);
  } else if (node.items !== undefined) {
    throw fail(`${where}'items' is only permitted on a schema of type 'array'.`);
  }

  if (node.enum !== undefined) {
    if (!Array.isArray(node.enum) || node.enum.length === 0) throw fail(`${where}'enum' must be a non-empty array.`);
    totals.enumValues += node.enum.length;
    const strings = node.enum.filter((v): v is string => typeof v === 'string');
    const chars = strings.reduce((sum, v) => sum + v.length, 0);
    totals.stringChars += chars;
    if (strings.length > STRICT_LIMITS.largeEnumValues && chars > STRICT_LIMITS.largeEnumMaxChars) {
      throw fail(
        `${where}enum has ${strings.length} string values totalling ${chars} characters; an enum with more than ${STRICT_LIMITS.largeEnumValues} values may total at most ${STRICT_LIMITS.largeEnumMaxChars}.`,
      );
    }
  }
  if (typeof node.const === 'string') totals.stringChars += node.const.length;

  if (node.anyOf !== undefined) {
    if (!Array.isArray(node.anyOf) || node.anyOf.length === 0) throw fail(`${where}'anyOf' must be a non-empty array of schemas.`);
    node.anyOf.forEach((branch, i) => child(branch, [...context, 'anyOf', String(i)], objectDepth));
  }
}

function pythonTuple(parts: string[]): string {
  if (parts.length === 0) return '()';
  const inner = parts.map((p) => `'${p}'`).join(', ');
  return parts.length === 1 ? `(${inner},)` : `(${inner})`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
