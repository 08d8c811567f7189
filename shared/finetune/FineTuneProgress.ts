/** The progress line of a fine-tuning job on stderr: a cli-progress bar of epochs on a terminal, a line per change in logs. */
import { SingleBar } from 'cli-progress';

import type { FineTuneEvent } from './FineTuningApi';
import type { FineTuneProgressState } from './startFineTune';

export class FineTuneProgress {
  readonly #bar: SingleBar | undefined;
  readonly #write: (text: string) => void;
  #started = false;
  #last = '';

  constructor(options: { write: (text: string) => void; tty: boolean }) {
    this.#write = options.write;
    this.#bar = options.tty
      ? new SingleBar({ stream: process.stderr, format: '{bar} epoch {value}/{total} | {status} | checkpoints {checkpoints} | {event}', barsize: 20, hideCursor: true, fps: 2 }, undefined)
      : undefined;
  }

  update(p: FineTuneProgressState): void {
    const total = Math.max(p.epochs ?? 1, 1);
    const done = Math.min(p.checkpoints.length, total);
    const latestCheckpoint = p.checkpoints.at(-1);
    const fields = { status: p.status, checkpoints: p.checkpoints.length, event: (p.latestEvent ?? '').slice(0, 60) };
    if (this.#bar !== undefined) {
      if (!this.#started) {
        this.#bar.start(total, done, fields);
        this.#started = true;
      } else {
        this.#bar.setTotal(total);
        this.#bar.update(done, fields);
      }
      return;
    }
    const checkpoint = latestCheckpoint === undefined ? '' : `, latest ${latestCheckpoint.model} (step ${latestCheckpoint.step})`;
    const text = `[blobsight] fine-tune ${p.jobId}: ${p.status}, ${p.checkpoints.length} checkpoint(s)${checkpoint}`;
    if (text !== this.#last) this.#write(`${text}\n`);
    this.#last = text;
  }

  /** Events go on their own lines in logs; a terminal shows the latest in the bar. */
  event(e: FineTuneEvent): void {
    if (this.#bar === undefined) this.#write(`[blobsight]   ${e.level === 'info' ? '' : `${e.level}: `}${e.message}\n`);
  }

  finish(): void {
    if (this.#bar !== undefined && this.#started) this.#bar.stop();
  }
}
