/** The quota-pacing and load-levelling settings, read beside the rest of the configuration (loadConfig). */
import type { Env } from '../config/loadConfig';

export interface ThroughputConfig {
  /** MODEL_TPM: the deployment's tokens-per-minute quota; null (unset) = no pacing, throttled events go back to Event Grid. */
  tokensPerMinute: number | null;
  /** MODEL_RPM: default 6 per 1,000 TPM. */
  requestsPerMinute: number | null;
  /** MAX_INSTANCES: the app's maximum instance count (infra sets it to the same value). */
  maxInstances: number;
  /** PACER_UTILISATION: the share of the quota aimed at. */
  utilisation: number;
  /** PACER_MAX_WAIT_MS: longest in-process wait for a slot before the event is parked. */
  maxWaitMs: number;
  /** PARKING_QUEUE: the Storage queue throttled events wait in; empty = no parking (Event Grid retries). */
  parkingQueue: string | null;
  /**
   * PACER_LEDGER: `<container>/<blob>` in the images' storage account holding the send schedule all instances share
   * (SlotLedger); empty = each instance paces alone.
   */
  ledger: { container: string; blob: string } | null;
}

export const THROUGHPUT_DEFAULTS = {
  MAX_INSTANCES: 40,
  PACER_UTILISATION: 0.95,
  PACER_MAX_WAIT_MS: 3_000,
  PARKING_QUEUE: 'parked-events',
  PACER_LEDGER: 'quota-ledger/slots.json',
} as const;

/** Storage queue names: 3-63 lower-case letters, digits and single hyphens, starting and ending alphanumeric. */
const QUEUE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

export function loadThroughputConfig(env: Env, issues: string[]): ThroughputConfig {
  const text = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const number = (name: string, fallback: number | null, ok: (n: number) => boolean, hint: string): number | null => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || !ok(n)) {
      issues.push(`${name}=${JSON.stringify(raw)} is invalid. ${hint}`);
      return fallback;
    }
    return n;
  };
  const whole = (n: number): boolean => Number.isInteger(n) && n > 0;
  const queue = env['PARKING_QUEUE'] === undefined ? THROUGHPUT_DEFAULTS.PARKING_QUEUE : (text('PARKING_QUEUE') ?? null);
  if (queue !== null && !QUEUE_NAME.test(queue)) issues.push(`PARKING_QUEUE=${JSON.stringify(queue)} is not a Storage queue name (3-63 lower-case letters, digits and single hyphens).`);
  const ledgerText = env['PACER_LEDGER'] === undefined ? THROUGHPUT_DEFAULTS.PACER_LEDGER : (text('PACER_LEDGER') ?? null);
  const ledgerMatch = ledgerText === null ? null : /^([a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9])\/([^\\]{1,1024})$/.exec(ledgerText);
  if (ledgerText !== null && ledgerMatch === null) issues.push(`PACER_LEDGER=${JSON.stringify(ledgerText)} is not <container>/<blob name> (e.g. quota-ledger/slots.json); empty turns the shared ledger off.`);
  return {
    tokensPerMinute: number('MODEL_TPM', null, whole, 'The deployment’s tokens-per-minute quota, a whole number, e.g. 30000 (sku capacity × 1000).'),
    requestsPerMinute: number('MODEL_RPM', null, whole, 'Requests per minute, a whole number; default 6 per 1,000 TPM.'),
    maxInstances: number('MAX_INSTANCES', THROUGHPUT_DEFAULTS.MAX_INSTANCES, whole, 'The app’s maximum instance count, e.g. 40.') ?? THROUGHPUT_DEFAULTS.MAX_INSTANCES,
    utilisation: number('PACER_UTILISATION', THROUGHPUT_DEFAULTS.PACER_UTILISATION, (n) => n > 0 && n <= 1, 'A share of the quota in (0, 1], e.g. 0.95.') ?? THROUGHPUT_DEFAULTS.PACER_UTILISATION,
    maxWaitMs: number('PACER_MAX_WAIT_MS', THROUGHPUT_DEFAULTS.PACER_MAX_WAIT_MS, (n) => Number.isInteger(n) && n >= 0, 'Milliseconds, e.g. 3000.') ?? THROUGHPUT_DEFAULTS.PACER_MAX_WAIT_MS,
    parkingQueue: queue,
    ledger: ledgerMatch === null ? null : { container: ledgerMatch[1] ?? '', blob: ledgerMatch[2] ?? '' },
  };
}
