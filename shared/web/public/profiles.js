/** The profiles the app knows (GET api/profiles), shared by the upload form, the filters and the review form. */
import { apiJson } from './api.js';

let loaded = { defaultProfile: '', model: null, items: [] };

export async function loadProfiles() {
  const body = await apiJson('api/profiles');
  loaded = {
    defaultProfile: typeof body?.defaultProfile === 'string' ? body.defaultProfile : '',
    model: body?.model ?? null,
    items: Array.isArray(body?.items) ? body.items : [],
  };
  return loaded;
}

export function profiles() {
  return loaded;
}

export function profileByName(name) {
  return loaded.items.find((p) => p.name === name);
}

/** A profile's kind in words. */
export function kindText(kind) {
  return { 'single-label': 'one label', 'multi-label': 'several labels', attributes: 'attributes', objects: 'objects with boxes' }[kind] ?? kind;
}
