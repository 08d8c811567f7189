/**
 * `--write-thresholds OUT`: a copy of the profile whose `labelThresholds` are the evaluated ones, so the service's
 * needs_review split (decideStatus) is set from measured precision. A label whose answers never reach the target
 * precision gets 1: only answers of confidence 1 stand, the rest go to review, which is what the evidence says. A
 * label with no scored answers keeps the profile's `confidenceThreshold` (nothing was measured).
 */
import { writeFileSync } from 'node:fs';

import { UsageError } from '../cli/UsageError';
import { parseProfile } from '../profiles/ProfileRegistry';
import type { Profile } from '../profiles/profileSchema';
import { thresholdKeys } from '../profiles/profileSchema';
import type { CalibrationSection } from './types';

export interface WrittenThresholds {
  profile: Profile;
  /** Labels set to 1 because no threshold reached the target. */
  unreachable: string[];
  /** Threshold keys of the evaluation that are not labels of the profile (left out). */
  unknown: string[];
}

export function profileWithThresholds(profile: Profile, cal: CalibrationSection): WrittenThresholds {
  const known = thresholdKeys(profile);
  const labelThresholds: Record<string, number> = { ...(profile.labelThresholds ?? {}) };
  const unreachable: string[] = [];
  const unknown: string[] = [];
  for (const [key, t] of Object.entries(cal.thresholds)) {
    if (known !== null && !known.has(key)) {
      unknown.push(key);
      continue;
    }
    if (t.threshold === null) {
      if (t.answers === 0) continue;
      unreachable.push(key);
      labelThresholds[key] = 1;
    } else labelThresholds[key] = t.threshold;
  }
  const copy = parseProfile({ ...profile, labelThresholds }, 'the profile with evaluated thresholds');
  return { profile: copy, unreachable, unknown };
}

export function writeThresholdsFile(out: string, written: WrittenThresholds): void {
  try {
    writeFileSync(out, `${JSON.stringify(written.profile, null, 2)}\n`);
  } catch (e) {
    throw new UsageError(`--write-thresholds ${out} cannot be written: ${e instanceof Error ? e.message : String(e)}`);
  }
}
