/** Whether a vision model can answer a profile with boxes: a detection profile with a closed category list. */
import type { ObjectsProfile, Profile } from '../profiles/profileSchema';

export function servesBoxes(profile: Profile): profile is ObjectsProfile & { categories: string[] } {
  return profile.kind === 'objects' && profile.categories !== undefined;
}
