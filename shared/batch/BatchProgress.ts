/** Progress of the batches on stderr while they run at Azure: a bar (cli-progress) on a terminal, a line per change in logs. */
import { SingleBar } from 'cli-progress';

export interface BatchProgressState {
  total: number;
  completed: number;
  failed: number;
  /** Status of each batch, e.g. `in_progress, validating`. */
  statuses: string[];
}

export class BatchProgress {
  readonly #bar: SingleBar | undefined;
  readonly #stream: NodeJS.WriteStream;
  #started = false;
  #last = '';

  constructor(options: { stream?: NodeJS.WriteStream; bar: boolean }) {
    this.#stream = options.stream ?? process.stderr;
    this.#bar =
      options.bar && this.#stream.isTTY === true
        ? new SingleBar({ stream: this.#stream, format: '{bar} {value}/{total} requests | failed {failed} | batches: {statuses}', barsize: 24, hideCursor: true, fps: 2 }, undefined)
        : undefined;
  }

  update(p: BatchProgressState): void {
    const fields = { failed: p.failed, statuses: p.statuses.join(', ') };
    const done = p.completed + p.failed;
    if (this.#bar !== undefined) {
      if (!this.#started) {
        this.#bar.start(Math.max(p.total, 1), done, fields);
        this.#started = true;
      } else {
        this.#bar.setTotal(Math.max(p.total, 1));
        this.#bar.update(done, fields);
      }
      return;
    }
    const text = `[blobsight] batch: ${done}/${p.total} requests done, ${p.failed} failed; ${fields.statuses}`;
    if (text !== this.#last) this.#stream.write(`${text}\n`);
    this.#last = text;
  }

  finish(): void {
    if (this.#bar !== undefined && this.#started) this.#bar.stop();
  }
}
