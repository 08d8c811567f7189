/**
 * The reconcile timer's whole run: the sweep (shared/pipeline/reconcile), then the outbound events a lost or failed
 * publish left pending, then the content-cache retention sweep; the metrics of what it found.
 */
import { sweepCache } from '../lifecycle';
import type { Logger } from '../logging';
import type { ReconcileReport } from '../pipeline';
import { reconcile } from '../pipeline';
import { recordReconcile } from '../telemetry';
import type { Services } from './createServices';
import { pipelineDeps } from './createServices';

export interface ReconcileTimerReport extends ReconcileReport {
  outbound: { published: number; failed: number } | null;
  cacheExpired: number;
}

/** Publishes pending a minute after their final write: the delivery that wrote them is usually publishing right then. */
const OUTBOUND_GRACE_MS = 60_000;
const OUTBOUND_PER_RUN = 100;
const CACHE_SWEEP_PER_RUN = 500;

export async function reconcileTimer(s: Services, log: Logger): Promise<ReconcileTimerReport> {
  const report = await reconcile(pipelineDeps(s, log), {
    deadLetter: s.blobService.getContainerClient(s.config.reconcile.deadLetterContainer),
    staleAfterMs: s.config.reconcile.staleAfterMs,
    retryHorizonMs: s.config.reconcile.retryHorizonMs,
    maxItems: s.config.reconcile.maxItems,
    maxScan: s.config.reconcile.maxScan,
    maxDeadLetterAttempts: s.config.reconcile.maxDeadLetterAttempts,
  });
  recordReconcile(report);
  const now = new Date();
  let outbound: ReconcileTimerReport['outbound'] = null;
  if (s.outbox !== undefined) {
    outbound = await s.outbox.retryPending({ limit: OUTBOUND_PER_RUN, olderThan: new Date(now.getTime() - OUTBOUND_GRACE_MS) }).catch((e: unknown) => {
      log.warn('could not look for pending outbound events', { error: e instanceof Error ? e.message : String(e) });
      return { published: 0, failed: 0 };
    });
  }
  const cacheExpired = await sweepCache(s.store, { ttlDays: s.config.cacheTtlDays, now, limit: CACHE_SWEEP_PER_RUN }).then(
    (r) => r.deleted,
    (e: unknown) => {
      log.warn('could not sweep the content cache', { error: e instanceof Error ? e.message : String(e) });
      return 0;
    },
  );
  return { ...report, outbound, cacheExpired };
}
