import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { isConfigError, isPermanentError } from '../../shared/errors';
import { loadProfiles, resolveProfile } from '../../shared/profiles';

const registry = loadProfiles();

describe('built-in profiles', () => {
  it('ships flowers, pets, driving-scene, product-tags and objects, each valid', () => {
    expect(registry.names().sort()).toEqual(['dog-breeds', 'driving-objects', 'driving-scene', 'flowers', 'objects', 'pets', 'product-tags']);
    expect(registry.get('objects')?.kind).toBe('objects');
    expect(registry.get('flowers')).toMatchObject({ kind: 'single-label', labels: ['dandelion', 'rose', 'sunflower', 'daisy'].map((name) => expect.objectContaining({ name })) });
    expect(registry.get('pets')?.kind).toBe('single-label');
    expect(registry.get('product-tags')?.kind).toBe('multi-label');
  });

  it('driving-scene uses the BDD100K vocabularies', () => {
    const p = registry.get('driving-scene');
    if (p?.kind !== 'attributes') throw new Error('driving-scene must be an attributes profile');
    const labels = Object.fromEntries(p.attributes.map((a) => [a.name, a.labels.map((l) => l.name)]));
    expect(labels['weather']).toEqual(expect.arrayContaining(['clear', 'overcast', 'partly cloudy', 'rainy', 'snowy', 'foggy']));
    expect(labels['timeofday']).toEqual(expect.arrayContaining(['daytime', 'night', 'dawn/dusk']));
    expect(labels['scene']).toEqual(expect.arrayContaining(['city street', 'highway', 'residential', 'parking lot']));
  });
});

describe('user profiles (PROFILES_DIR)', () => {
  it('adds valid files and overrides built-ins by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    writeFileSync(
      join(dir, 'claims.json'),
      JSON.stringify({ name: 'claims', version: '2', kind: 'single-label', prompt: 'Damage?', detail: 'high', confidenceThreshold: 0.5, labels: [{ name: 'damaged' }, { name: 'intact' }] }),
    );
    writeFileSync(join(dir, 'pets.json'), JSON.stringify({ ...registry.get('pets'), version: '9' }));
    const r = loadProfiles(dir);
    expect(r.get('claims')?.version).toBe('2');
    expect(r.get('pets')?.version).toBe('9');
  });

  it('refuses an invalid file, naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'Bad Name', version: '1', kind: 'single-label', prompt: 'x', detail: 'huge', confidenceThreshold: 2, labels: [{ name: 'a' }, { name: 'a' }] }));
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    let err: unknown;
    try {
      loadProfiles(dir);
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain('bad.json');
    expect(msg).toMatch(/name: profile names are lower-case slugs/);
    expect(msg).toMatch(/detail/);
    expect(msg).toMatch(/confidenceThreshold/);
    expect(msg).toMatch(/label names must be unique/);
    expect(msg).toMatch(/broken\.json: not valid JSON/);
  });
});

describe('resolveProfile', () => {
  it('takes the profile from the first path segment when it names one', () => {
    expect(resolveProfile('flowers/rose.jpg', { profile: 'pets' }, registry, 'product-tags')).toMatchObject({ profile: { name: 'flowers' }, source: 'path' });
  });

  it('treats an unknown first segment as a folder and falls back to metadata, then the default', () => {
    expect(resolveProfile('2026/11/cat.jpg', { profile: 'pets' }, registry, 'product-tags')).toMatchObject({ profile: { name: 'pets' }, source: 'metadata' });
    expect(resolveProfile('2026/11/cat.jpg', {}, registry, 'product-tags')).toMatchObject({ profile: { name: 'product-tags' }, source: 'default' });
    expect(resolveProfile('cat.jpg', { Profile: ' pets ' }, registry, 'flowers')).toMatchObject({ profile: { name: 'pets' }, source: 'metadata' });
  });

  it('refuses metadata naming an unknown profile with the list of known ones', () => {
    let err: unknown;
    try {
      resolveProfile('x.jpg', { profile: 'nope' }, registry, 'flowers');
    } catch (e) {
      err = e;
    }
    expect(isPermanentError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'unknown_profile' });
    expect((err as Error).message).toMatch(/Unknown profile "nope".*flowers/);
  });
});
