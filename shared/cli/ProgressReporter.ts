/** Progress on stderr: a live bar (cli-progress) on a terminal, else a plain line every few seconds for logs and CI. */
import { SingleBar } from 'cli-progress';

import type { LabelProgress } from './labelRun';

const LINE_EVERY_MS = 5_000;

export class ProgressReporter {
  readonly #bar: SingleBar | undefined;
  readonly #stream: NodeJS.WriteStream;
  #lastLine = 0;
  #started = false;

  constructor(options: { stream?: NodeJS.WriteStream; bar: boolean }) {
    this.#stream = options.stream ?? process.stderr;
    this.#bar =
      options.bar && this.#stream.isTTY === true
        ? new SingleBar(
            {
              stream: this.#stream,
              format: '{bar} {value}/{total} | failed {failed} | {rate}/s | ETA {eta_formatted} | {tokens} tokens | ${cost}',
              barsize: 24,
              hideCursor: true,
              etaBuffer: 50,
              fps: 5,
            },
            undefined,
          )
        : undefined;
  }

  update(p: LabelProgress): void {
    const fields = { failed: p.failed, rate: rate(p).toFixed(1), tokens: p.promptTokens + p.completionTokens, cost: money(p.costUsd) };
    if (this.#bar !== undefined) {
      if (!this.#started) {
        this.#bar.start(p.total, p.done, fields);
        this.#started = true;
      } else this.#bar.update(p.done, fields);
      return;
    }
    const nowMs = Date.now();
    if (nowMs - this.#lastLine < LINE_EVERY_MS && p.done < p.total) return;
    this.#lastLine = nowMs;
    this.#stream.write(`${line(p)}\n`);
  }

  finish(p: LabelProgress): void {
    if (this.#bar !== undefined) {
      if (this.#started) {
        this.#bar.update(p.done);
        this.#bar.stop();
      }
      return;
    }
    this.#stream.write(`${line(p)}\n`);
  }
}

function rate(p: LabelProgress): number {
  const s = (Date.now() - p.startedAt) / 1000;
  return s > 0 ? (p.done - p.skipped) / s : 0;
}

function line(p: LabelProgress): string {
  const r = rate(p);
  const left = p.total - p.done;
  const eta = r > 0 ? `${Math.ceil(left / r)}s` : '?';
  return `[blobsight] ${p.done}/${p.total} done (${p.skipped} skipped, ${p.reused} reused), ${p.failed} failed, ${r.toFixed(1)}/s, ETA ${eta}, ${p.promptTokens + p.completionTokens} tokens, $${money(p.costUsd)}`;
}

export function money(usd: number | null): string {
  return usd === null ? '? (no price for this model)' : usd.toFixed(4);
}
