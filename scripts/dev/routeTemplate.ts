/** Azure Functions route templates (ASP.NET Core syntax) for the dev host: parse once, match paths, order by precedence. */

/** One `/`-separated part of a template. */
export type RouteSegment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; name: string; optional: boolean; constraints: readonly RouteConstraint[] }
  | { kind: 'catchAll'; name: string };

export interface CompiledRoute {
  template: string;
  segments: readonly RouteSegment[];
}

export type RouteParams = Record<string, string | undefined>;

interface RouteConstraint {
  text: string;
  test(value: string): boolean;
}

// `{name}`, `{name?}`, `{name:int}`, `{name:minlength(3)?}`, `{*name}` (and `{**name}`, which ASP.NET also accepts).
const PARAM = /^\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)((?::[A-Za-z]+(?:\([^(){}]*\))?)*)(\?)?\}$/;
const CONSTRAINT = /:([A-Za-z]+)(?:\(([^(){}]*)\))?/g;
const GUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * The constraints Azure Functions routes use most; a template naming another fails at start-up, because a
 * constraint silently ignored would route requests the real host refuses.
 */
function constraint(name: string, arg: string | undefined, template: string): RouteConstraint {
  const text = arg === undefined ? name : `${name}(${arg})`;
  const n = Number(arg);
  const needsNumber = (): void => {
    if (arg === undefined || !Number.isInteger(n) || n < 0) throw new Error(`Route "${template}": constraint ${text} needs a whole number.`);
  };
  switch (name.toLowerCase()) {
    case 'int':
    case 'long':
      return { text, test: (v) => /^-?\d+$/.test(v) };
    case 'bool':
      return { text, test: (v) => /^(true|false)$/i.test(v) };
    case 'guid':
      return { text, test: (v) => GUID.test(v.replace(/^\{(.*)\}$/, '$1')) };
    case 'alpha':
      return { text, test: (v) => /^[A-Za-z]+$/.test(v) };
    case 'minlength':
      needsNumber();
      return { text, test: (v) => v.length >= n };
    case 'maxlength':
      needsNumber();
      return { text, test: (v) => v.length <= n };
    case 'length':
      needsNumber();
      return { text, test: (v) => v.length === n };
    default:
      throw new Error(`Route "${template}": constraint "${text}" is not supported by the dev host (int, long, bool, guid, alpha, minlength, maxlength, length).`);
  }
}

/** Parses a template; throws on syntax the dev host cannot honour the way the Functions host would. */
export function compileRoute(template: string): CompiledRoute {
  const parts = template.replace(/^\/+|\/+$/g, '');
  const segments: RouteSegment[] = [];
  const names = new Set<string>();
  for (const raw of parts === '' ? [] : parts.split('/')) {
    if (raw === '') throw new Error(`Route "${template}" has an empty segment.`);
    const last = segments.at(-1);
    if (last !== undefined && (last.kind === 'catchAll' || (last.kind === 'param' && last.optional))) {
      throw new Error(`Route "${template}": only the last segment may be optional or catch-all.`);
    }
    const m = PARAM.exec(raw);
    if (m === null) {
      if (/[{}]/.test(raw)) throw new Error(`Route "${template}": segment "${raw}" mixes text and parameters, which the dev host does not support.`);
      segments.push({ kind: 'literal', text: raw });
      continue;
    }
    const [, star, name = '', constraintText = '', question] = m;
    const key = name.toLowerCase();
    if (names.has(key)) throw new Error(`Route "${template}" names parameter "${name}" twice.`);
    names.add(key);
    if (star !== undefined) {
      if (constraintText !== '' || question !== undefined) throw new Error(`Route "${template}": a catch-all parameter takes no constraint and is already optional.`);
      segments.push({ kind: 'catchAll', name });
      continue;
    }
    const constraints = [...constraintText.matchAll(CONSTRAINT)].map((c) => constraint(c[1] ?? '', c[2], template));
    segments.push({ kind: 'param', name, optional: question !== undefined, constraints });
  }
  return { template, segments };
}

/**
 * The route's parameters when `pathname` (still percent-encoded, as in a URL) matches, else null. Literals compare
 * case-insensitively and a trailing slash is ignored, as in ASP.NET Core routing. A missing optional or catch-all
 * parameter is absent (undefined).
 */
export function matchRoute(route: CompiledRoute, pathname: string): RouteParams | null {
  const trimmed = pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  const parts = trimmed === '' ? [] : trimmed.split('/');
  const params: RouteParams = {};
  for (let i = 0; i < route.segments.length; i++) {
    const seg = route.segments[i] as RouteSegment;
    if (seg.kind === 'catchAll') {
      const rest = parts.slice(i);
      const value = decode(rest.join('/'));
      if (value === null) return null;
      if (value !== '') params[seg.name] = value;
      return params;
    }
    const raw = parts[i];
    if (raw === undefined) {
      if (seg.kind === 'param' && seg.optional) return params;
      return null;
    }
    const value = decode(raw);
    if (value === null || value === '') return null;
    if (seg.kind === 'literal') {
      if (value.toLowerCase() !== seg.text.toLowerCase()) return null;
      continue;
    }
    if (!seg.constraints.every((c) => c.test(value))) return null;
    params[seg.name] = value;
  }
  return parts.length === route.segments.length ? params : null;
}

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** Lower is more specific: a literal beats a constrained parameter beats a parameter beats an optional one; catch-all last. */
function rank(seg: RouteSegment | undefined): number {
  if (seg === undefined) return -1;
  if (seg.kind === 'literal') return 0;
  if (seg.kind === 'catchAll') return 4;
  if (seg.optional) return 3;
  return seg.constraints.length > 0 ? 1 : 2;
}

/**
 * Orders routes the way the host picks among several that match one path: segment by segment, the more specific
 * segment first; a route that ends where the other goes on is the more specific (`api/images` before
 * `api/images/{id?}`). Sorting with this is stable, so equal routes keep their table order.
 */
export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(a.segments[i]) - rank(b.segments[i]);
    if (d !== 0) return d;
  }
  return 0;
}
