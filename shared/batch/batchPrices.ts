/** Global Batch prices: the one place that says what a Batch API call costs relative to the online (Global Standard) table. */
import type { ModelPrice } from '../config';

/**
 * "50% less cost than global standard" (Azure OpenAI batch docs, deployment types): every rate of the configured
 * table, input, cached input and output, at half. Batch requests are not served from the prompt cache discount on
 * top (Azure lists no cached rate for Global Batch), so cached input is priced at the batch input rate.
 */
export const BATCH_PRICE_FACTOR = 0.5;

export function batchPrices(online: Readonly<Record<string, ModelPrice>>): Record<string, ModelPrice> {
  return Object.fromEntries(
    Object.entries(online).map(([prefix, p]) => [prefix, { inputPerMTok: p.inputPerMTok * BATCH_PRICE_FACTOR, outputPerMTok: p.outputPerMTok * BATCH_PRICE_FACTOR, cachedInputPerMTok: p.inputPerMTok * BATCH_PRICE_FACTOR }]),
  );
}
