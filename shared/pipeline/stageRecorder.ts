/**
 * Optional per-stage timing of one event: the perf bench charges each moment of an event to a stage (where the
 * non-model time goes), and a test reads the order stages start and end in (what runs alongside what). Absent in
 * production: `timed` is then a plain call, so it costs nothing and adds no spans to the telemetry bill.
 */

/** The steps of the Event Grid flow that take time outside the model's own. */
export type PipelineStage =
  | 'cosmos.read'
  | 'blob.properties'
  | 'budget.check'
  | 'cosmos.claim'
  | 'blob.download'
  | 'preprocess'
  | 'cache.claim'
  | 'cosmos.attempt'
  | 'model.classify'
  | 'cache.store'
  | 'cosmos.finish'
  | 'stats.count'
  | 'outbound.publish';

export interface StageRecorder {
  /** Called when `stage` starts; the function it returns is called once when the stage ends, however it ends. */
  start(stage: PipelineStage): () => void;
}

/** Runs `fn` as `stage` on `recorder` (when there is one). */
export async function timed<T>(recorder: StageRecorder | undefined, stage: PipelineStage, fn: () => Promise<T>): Promise<T> {
  if (recorder === undefined) return fn();
  const end = recorder.start(stage);
  try {
    return await fn();
  } finally {
    end();
  }
}

/** Starts `stage` by hand, for a stage that does not end where it began; the returned end is safe to call twice. */
export function startStage(recorder: StageRecorder | undefined, stage: PipelineStage): () => void {
  if (recorder === undefined) return () => undefined;
  const end = recorder.start(stage);
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    end();
  };
}
