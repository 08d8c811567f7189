/** Which methods the app's routes accept for a path: what a 405 lists in its Allow header. */

export interface RouteMethods {
  /** Azure Functions route template without prefix, e.g. `api/images/{id}`; `{x}` is one segment, `{*x}` the rest. */
  route: string;
  methods: readonly string[];
}

/** The sorted methods of every route (other than catch-alls) whose template matches `path`; empty when none does. */
export function allowedMethods(routes: readonly RouteMethods[], path: string): string[] {
  const parts = path.replace(/^\/+|\/+$/g, '').split('/');
  const allowed = new Set<string>();
  for (const r of routes) {
    const segments = r.route.split('/');
    if (segments[0]?.startsWith('{*') === true) continue;
    const matches =
      segments.length === parts.length &&
      segments.every((seg, i) => {
        const part = parts[i] ?? '';
        if (seg.startsWith('{*')) return true;
        if (seg.startsWith('{')) return part !== '';
        return seg.toLowerCase() === part.toLowerCase();
      });
    if (matches) for (const m of r.methods) allowed.add(m);
  }
  return [...allowed].sort();
}
