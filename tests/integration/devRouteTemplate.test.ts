/** The dev host's route templates: the Azure Functions syntax our function table uses, matched and ordered as the host does. */
import { describe, expect, it } from 'vitest';

import { compareRoutes, compileRoute, matchRoute } from '../../scripts/dev/routeTemplate';
import { FUNCTIONS } from '../../shared/runtime';

describe('route templates', () => {
  it('matches literal segments case-insensitively and ignores a trailing slash', () => {
    const r = compileRoute('api/images');
    expect(matchRoute(r, '/api/images')).toEqual({});
    expect(matchRoute(r, '/API/Images/')).toEqual({});
    expect(matchRoute(r, '/api/image')).toBeNull();
    expect(matchRoute(r, '/api/images/x')).toBeNull();
  });

  it('binds {name} to one decoded segment', () => {
    const r = compileRoute('api/images/{id}/content');
    expect(matchRoute(r, '/api/images/abc/content')).toEqual({ id: 'abc' });
    expect(matchRoute(r, '/api/images/a%20b%2Fc/content')).toEqual({ id: 'a b/c' });
    expect(matchRoute(r, '/api/images//content')).toBeNull();
    expect(matchRoute(r, '/api/images/%E0%A4%A/content')).toBeNull();
  });

  it('leaves an absent {name?} undefined', () => {
    const r = compileRoute('api/things/{kind?}');
    expect(matchRoute(r, '/api/things')).toEqual({});
    expect(matchRoute(r, '/api/things/cats')).toEqual({ kind: 'cats' });
    expect(matchRoute(r, '/api/things/cats/more')).toBeNull();
  });

  it('gives {*name} the rest of the path, slashes included, and nothing for the root', () => {
    const r = compileRoute('{*path}');
    expect(matchRoute(r, '/')).toEqual({});
    expect(matchRoute(r, '/app.js')).toEqual({ path: 'app.js' });
    expect(matchRoute(r, '/a/b%20c/d.html')).toEqual({ path: 'a/b c/d.html' });
  });

  it('checks constraints', () => {
    const r = compileRoute('api/n/{n:int}');
    expect(matchRoute(r, '/api/n/42')).toEqual({ n: '42' });
    expect(matchRoute(r, '/api/n/forty')).toBeNull();
    expect(matchRoute(compileRoute('api/{g:guid}'), '/api/0f8fad5b-d9cb-469f-a165-70867728950e')).not.toBeNull();
    expect(matchRoute(compileRoute('api/{w:alpha:minlength(3)}'), '/api/ab')).toBeNull();
  });

  it('refuses templates the host would route differently', () => {
    expect(() => compileRoute('{*rest}/more')).toThrow(/only the last segment/);
    expect(() => compileRoute('api/{a?}/{b}')).toThrow(/only the last segment/);
    expect(() => compileRoute('api/file.{ext}')).toThrow(/mixes text and parameters/);
    expect(() => compileRoute('api/{id:regexish}')).toThrow(/not supported/);
    expect(() => compileRoute('api/{id}/{ID}')).toThrow(/twice/);
  });

  it('orders literal before parameter before optional before catch-all', () => {
    const templates = ['{*path}', 'api/images/{id?}', 'api/images/{id}', 'api/images/{id:int}', 'api/images/latest', 'api/images'];
    const sorted = templates.map(compileRoute).sort(compareRoutes).map((r) => r.template);
    expect(sorted).toEqual(['api/images', 'api/images/latest', 'api/images/{id:int}', 'api/images/{id}', 'api/images/{id?}', '{*path}']);
  });

  it('compiles every route of the app', () => {
    for (const f of FUNCTIONS) if (f.trigger === 'http') expect(() => compileRoute(f.route), f.name).not.toThrow();
  });
});
