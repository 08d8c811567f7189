/** Per-label review thresholds (profile `labelThresholds`, written by `evaluate --write-thresholds`) in decideStatus. */
import { describe, expect, it } from 'vitest';

import { decideStatus } from '../../shared/pipeline/decideStatus';
import { loadProfiles, parseProfile } from '../../shared/profiles/ProfileRegistry';

const profiles = loadProfiles();

describe('decideStatus with labelThresholds', () => {
  it('multi-label: every tag is held to its own threshold, others to the profile threshold', () => {
    const tags = parseProfile({ ...profiles.get('product-tags'), labelThresholds: { toy: 0.95 } }, 'test');
    const result = (toy: number, food: number) => ({ kind: 'multi-label' as const, labels: [{ label: 'toy', confidence: toy }, { label: 'food', confidence: food }] });
    expect(decideStatus({ confidence: 0.9, result: result(0.96, 0.9) }, tags)).toBe('classified');
    expect(decideStatus({ confidence: 0.9, result: result(0.94, 0.9) }, tags)).toBe('needs_review');
    // food falls back to confidenceThreshold 0.7.
    expect(decideStatus({ confidence: 0.6, result: result(0.99, 0.6) }, tags)).toBe('needs_review');
  });

  it('attributes: keys are <attribute>.<label>; an unknown confidence goes to review', () => {
    const scene = parseProfile({ ...profiles.get('driving-scene'), labelThresholds: { 'weather.rainy': 0.9, 'timeofday.night': 0.3 } }, 'test');
    const result = (rainy: number | null, night: number) => ({ kind: 'attributes' as const, attributes: { weather: { label: 'rainy', confidence: rainy }, timeofday: { label: 'night', confidence: night }, scene: { label: 'highway', confidence: 0.99 } } });
    // night at 0.4 is below the profile's 0.6 but above its own 0.3.
    expect(decideStatus({ confidence: 0.4, result: result(0.95, 0.4) }, scene)).toBe('classified');
    expect(decideStatus({ confidence: 0.4, result: result(0.85, 0.4) }, scene)).toBe('needs_review');
    expect(decideStatus({ confidence: null, result: result(null, 0.9) }, scene)).toBe('needs_review');
  });

  it('the schema refuses an attribute key without its attribute', () => {
    expect(() => parseProfile({ ...profiles.get('driving-scene'), labelThresholds: { rainy: 0.9 } }, 'test')).toThrow(/"rainy" is not a label/);
    expect(() => parseProfile({ ...profiles.get('pets'), labelThresholds: { cat: 1.5 } }, 'test')).toThrow();
  });
});
