/** SHA-256 of a profile as loaded: changes whenever its labels, prompt or thresholds do, even without a version bump. */
import { createHash } from 'node:crypto';

import type { Profile } from '../profiles';

export function profileHash(profile: Profile): string {
  return createHash('sha256').update(JSON.stringify(profile)).digest('hex');
}
