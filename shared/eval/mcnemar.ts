/**
 * McNemar's paired test on two classifiers' correctness over the same images. b = images only A got right, c = images
 * only B got right. With fewer than 25 discordant images (b + c < 25) the exact two-sided binomial test:
 * p = min(1, 2 · Σ_{k ≤ min(b,c)} C(b+c, k) / 2^(b+c)); otherwise the chi-square statistic with continuity correction
 * χ² = (|b − c| − 1)² / (b + c) on 1 degree of freedom, p = erfc(√(χ²/2)). No discordant image: p = 1.
 */
export interface McNemarResult {
  /** Images both labelled (and both have truth for). */
  n: number;
  /** Only the first right. */
  b: number;
  /** Only the second right. */
  c: number;
  method: 'exact-binomial' | 'chi-square-continuity' | 'none';
  statistic: number | null;
  pValue: number;
}

export const EXACT_BELOW = 25;

export function mcnemar(first: readonly boolean[], second: readonly boolean[]): McNemarResult {
  if (first.length !== second.length) throw new Error('mcnemar: the two runs must be paired image by image');
  let b = 0;
  let c = 0;
  first.forEach((a, i) => {
    if (a && !second[i]) b++;
    else if (!a && second[i] === true) c++;
  });
  return mcnemarFromCounts(first.length, b, c);
}

export function mcnemarFromCounts(n: number, b: number, c: number): McNemarResult {
  const d = b + c;
  if (d === 0) return { n, b, c, method: 'none', statistic: null, pValue: 1 };
  if (d < EXACT_BELOW) {
    let tail = 0;
    for (let k = 0; k <= Math.min(b, c); k++) tail += Math.exp(logChoose(d, k) - d * Math.LN2);
    return { n, b, c, method: 'exact-binomial', statistic: Math.min(b, c), pValue: Math.min(1, 2 * tail) };
  }
  const chi2 = (Math.abs(b - c) - 1) ** 2 / d;
  return { n, b, c, method: 'chi-square-continuity', statistic: chi2, pValue: erfc(Math.sqrt(chi2 / 2)) };
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * Complementary error function, Numerical Recipes' Chebyshev fit (erfcc), fractional error below 1.2e-7 everywhere:
 * enough for a p-value, and no dependency for one function.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
