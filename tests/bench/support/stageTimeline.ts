/**
 * Where one event's wall time goes: the pipeline's stage recorder logs when each stage starts and ends, the fake
 * model logs when it received and answered the request, and every moment of the event is charged to exactly one
 * of them, so the parts add up to the end-to-end time and the non-model parts to the overhead.
 */
import type { PipelineStage, StageRecorder } from '../../../shared/pipeline/stageRecorder';

export interface StageSpan {
  stage: PipelineStage;
  /** Epoch ms (fractional), the clock the fake's Date.now() stamps are on. */
  start: number;
  end: number;
}

/** What a moment is charged to when the model service is working on the request. */
export const MODEL_SERVICE = 'model service (fake)';
/** ...and when no stage is open: the event loop, JSON, hashing, decisions between awaits. */
export const GLUE = 'between stages';

const epochNow = (): number => performance.timeOrigin + performance.now();

/** A recorder that keeps every stage it saw (each end counted once). */
export function stageLog(): { recorder: StageRecorder; spans: StageSpan[] } {
  const spans: StageSpan[] = [];
  return {
    spans,
    recorder: {
      start(stage) {
        const start = epochNow();
        let ended = false;
        return () => {
          if (ended) return;
          ended = true;
          spans.push({ stage, start, end: epochNow() });
        };
      },
    },
  };
}

/**
 * Charges [from, to] out: to the model service while it works, otherwise to the open stage that started last (the
 * one the flow is waiting on once the earlier ones it overlaps are done), otherwise to GLUE. Sums to to − from.
 */
export function chargeTimeline(spans: readonly StageSpan[], model: { start: number; end: number } | undefined, from: number, to: number): Record<string, number> {
  const clip = (t: number): number => Math.min(to, Math.max(from, t));
  const cuts = new Set<number>([from, to]);
  for (const s of spans) {
    cuts.add(clip(s.start));
    cuts.add(clip(s.end));
  }
  if (model !== undefined) {
    cuts.add(clip(model.start));
    cuts.add(clip(model.end));
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const charged: Record<string, number> = {};
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i] as number;
    const b = sorted[i + 1] as number;
    if (b <= a) continue;
    const mid = (a + b) / 2;
    let who: string = GLUE;
    if (model !== undefined && model.start <= mid && mid < model.end) who = MODEL_SERVICE;
    else {
      let latest = -Infinity;
      for (const s of spans) {
        if (s.start <= mid && mid < s.end && s.start > latest) {
          latest = s.start;
          who = s.stage;
        }
      }
    }
    charged[who] = (charged[who] ?? 0) + (b - a);
  }
  return charged;
}
