/**
 * What fine-tuning gpt-4o-2024-08-06 costs on Azure OpenAI, for the estimate `finetune prepare` prints.
 *
 * UNVERIFIED figures: the Azure OpenAI pricing page (azure.microsoft.com/pricing/details/cognitive-services/
 * openai-service, "Fine-tuning models", GPT-4o-2024-08-06, regional Standard) could not be read from this build
 * machine (no internet); the values are the ones that page listed as recalled: training $27.50 per 1M training
 * tokens, hosting $1.70 per hour of a Standard deployment. learn.microsoft.com "fine-tuning cost management" gives the
 * formula used (price = training tokens × epochs × rate per token) and says Global training is 10–30 % cheaper and
 * Developer training half of Global, and that a Developer-tier deployment has no hourly hosting fee. Both figures can
 * be overridden with --training-price and --hosting-price; check the pricing page before spending.
 */
export const FINE_TUNE_PRICES = {
  model: 'gpt-4o-2024-08-06',
  trainingPerMTok: 27.5,
  hostingPerHour: 1.7,
  source: 'Azure OpenAI pricing page, regional Standard (unverified: recalled, not read at build time)',
} as const;

/** The table above, with the rates a user gave on the command line instead. */
export function fineTunePrices(overrides: { trainingPerMTok: number | undefined; hostingPerHour: number | undefined }): { trainingPerMTok: number; hostingPerHour: number; source: string } {
  const given = overrides.trainingPerMTok !== undefined || overrides.hostingPerHour !== undefined;
  return {
    trainingPerMTok: overrides.trainingPerMTok ?? FINE_TUNE_PRICES.trainingPerMTok,
    hostingPerHour: overrides.hostingPerHour ?? FINE_TUNE_PRICES.hostingPerHour,
    source: given ? `given on the command line (others: ${FINE_TUNE_PRICES.source})` : FINE_TUNE_PRICES.source,
  };
}
