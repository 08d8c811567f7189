/** Names the answer's self-estimated confidence property without colliding with an attribute called `confidence`. */
import type { Profile } from '../profiles/profileSchema';

/**
 * `confidence`, unless an attributes profile already uses that name for a field; then `_confidence`, which no
 * attribute can be called (attribute names start with a-z).
 */
export function answerConfidenceKey(profile: Profile): string {
  return profile.kind === 'attributes' && profile.attributes.some((a) => a.name === 'confidence') ? '_confidence' : 'confidence';
}
