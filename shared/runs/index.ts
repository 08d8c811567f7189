export { JsonLinesWriter } from './JsonLinesWriter';
export type { PredictionRecord, PredictionSource, PredictionStatus } from './predictionRecord';
export type { CorruptLine, JsonLines } from './readJsonLines';
export { readJsonLines } from './readJsonLines';
export type { RunConfig } from './runConfig';
export type { RunContents } from './RunFolder';
export { CONFIG_FILE, FAILURES_FILE, listRunIds, PREDICTIONS_FILE, RunFolder, RunFolderError, runSlug, runTimestamp, SUMMARY_FILE } from './RunFolder';
export type { LatencyPercentiles, RunSession, RunSummary, SummaryInput } from './runSummary';
export { latestByName, percentiles, summarizeRun } from './runSummary';
