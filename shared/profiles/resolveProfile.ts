/** Picks the profile for a blob: its path prefix, else its `profile` metadata, else the default. */
import { PermanentError } from '../errors';
import type { ProfileRegistry } from './ProfileRegistry';
import type { Profile } from './profileSchema';

export type ProfileSource = 'path' | 'metadata' | 'default' | 'request';

export interface ResolvedProfile {
  profile: Profile;
  source: ProfileSource;
}

/**
 * `images/<profile>/...`: the first path segment selects a profile when it names one. A first segment that is not a
 * profile is an ordinary folder (users organise uploads by date, customer, ...), so it falls through to metadata.
 * Metadata that names no known profile is the user's explicit choice gone wrong, so it is refused, not defaulted.
 */
export function resolveProfile(
  blobName: string,
  metadata: Readonly<Record<string, string>>,
  registry: ProfileRegistry,
  defaultProfile: string,
): ResolvedProfile {
  // A reprocess with another profile (POST /api/images/{id}/reprocess) is the latest explicit choice: it wins.
  const reprocessed = Object.entries(metadata).find(([k]) => k.toLowerCase() === 'reprocessprofile')?.[1]?.trim();
  if (reprocessed !== undefined && reprocessed !== '') return { profile: requireProfile(registry, reprocessed, 'blob metadata "reprocessprofile"'), source: 'metadata' };
  const slash = blobName.indexOf('/');
  if (slash > 0) {
    const fromPath = registry.get(blobName.slice(0, slash));
    if (fromPath !== undefined) return { profile: fromPath, source: 'path' };
  }
  // Blob metadata keys come back lower-cased from the service.
  const fromMetadata = Object.entries(metadata).find(([k]) => k.toLowerCase() === 'profile')?.[1]?.trim();
  if (fromMetadata !== undefined && fromMetadata !== '') {
    return { profile: requireProfile(registry, fromMetadata, 'blob metadata "profile"'), source: 'metadata' };
  }
  return { profile: requireProfile(registry, defaultProfile, 'DEFAULT_PROFILE'), source: 'default' };
}

/** The named profile, or a PermanentError `unknown_profile` that lists the known ones. */
export function requireProfile(registry: ProfileRegistry, name: string, where: string): Profile {
  const p = registry.get(name);
  if (p === undefined) {
    throw new PermanentError('unknown_profile', `Unknown profile "${name}" (from ${where}). Known profiles: ${registry.names().join(', ')}.`, {
      details: { profile: name, known: registry.names() },
    });
  }
  return p;
}
