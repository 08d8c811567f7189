/** Prices a model call from its token usage and the configured price table. */
import type { ModelPrice } from '../config';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** The part of promptTokens served from the prompt cache (0 or absent: none). */
  cachedTokens?: number;
}

/**
 * Looks the price up by the longest table key that prefixes the model name the endpoint reported (so
 * `gpt-4o-2024-11-20` is priced as `gpt-4o`, never as `gpt-4o-mini`), then by `fallbackName` (the Azure
 * deployment name, often named after the model). Null when neither matches: an unknown price is not zero.
 * Cached prompt tokens are priced at the table's `cachedInputPerMTok` (the input price when the table has none, which
 * errs high).
 */
export function costUsd(
  usage: TokenUsage,
  modelName: string | null | undefined,
  prices: Readonly<Record<string, ModelPrice>>,
  fallbackName?: string,
): number | null {
  const price = findPrice(modelName, prices) ?? findPrice(fallbackName, prices);
  if (price === undefined) return null;
  const cached = Math.min(usage.cachedTokens ?? 0, usage.promptTokens);
  const cachedPrice = price.cachedInputPerMTok ?? price.inputPerMTok;
  return ((usage.promptTokens - cached) * price.inputPerMTok + cached * cachedPrice + usage.completionTokens * price.outputPerMTok) / 1_000_000;
}

function findPrice(name: string | null | undefined, prices: Readonly<Record<string, ModelPrice>>): ModelPrice | undefined {
  if (name === null || name === undefined || name === '') return undefined;
  const lower = name.toLowerCase();
  let best: string | undefined;
  for (const prefix of Object.keys(prices)) {
    if (lower.startsWith(prefix.toLowerCase()) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : prices[best];
}
