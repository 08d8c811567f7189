/** The set of profiles this app knows: the built-in data files plus an optional folder of the user's own. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ConfigError } from '../errors';
import dogBreeds from './data/dog-breeds.json';
import drivingObjects from './data/driving-objects.json';
import drivingScene from './data/driving-scene.json';
import flowers from './data/flowers.json';
import objects from './data/objects.json';
import pets from './data/pets.json';
import productTags from './data/product-tags.json';
import type { Profile } from './profileSchema';
import { profileSchema } from './profileSchema';

/** Shipped profiles, as data; validated like user files so a bad edit fails at start-up. */
export const BUILT_IN_PROFILE_DATA: readonly unknown[] = [flowers, pets, drivingScene, productTags, objects, drivingObjects, dogBreeds];

export class ProfileRegistry {
  private readonly byName: ReadonlyMap<string, Profile>;

  constructor(profiles: readonly Profile[]) {
    this.byName = new Map(profiles.map((p) => [p.name, p]));
  }

  get(name: string): Profile | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  list(): Profile[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** Parses one profile; `source` names the file or built-in so the error says where to look. */
export function parseProfile(data: unknown, source: string): Profile {
  const r = profileSchema.safeParse(data);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => `profile ${source}: ${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return r.data;
}

/**
 * Built-in profiles, then every `*.json` in `profilesDir` (PROFILES_DIR); a user file with a built-in's name replaces it.
 * Throws ConfigError listing every invalid file.
 */
export function loadProfiles(profilesDir?: string): ProfileRegistry {
  const profiles = new Map<string, Profile>();
  for (const [i, data] of BUILT_IN_PROFILE_DATA.entries()) {
    const p = parseProfile(data, `built-in #${i}`);
    profiles.set(p.name, p);
  }
  if (profilesDir !== undefined) {
    const problems: string[] = [];
    let files: string[];
    try {
      files = readdirSync(profilesDir).filter((f) => f.endsWith('.json')).sort();
    } catch (e) {
      throw new ConfigError([`PROFILES_DIR=${JSON.stringify(profilesDir)} cannot be read: ${(e as Error).message}`]);
    }
    for (const file of files) {
      const path = join(profilesDir, file);
      try {
        const p = parseProfile(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
        profiles.set(p.name, p);
      } catch (e) {
        problems.push(e instanceof ConfigError ? e.issues.join('; ') : `profile ${path}: not valid JSON (${(e as Error).message})`);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
  }
  return new ProfileRegistry([...profiles.values()]);
}
