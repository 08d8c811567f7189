/** Appends one JSON line and fsyncs it, so a `kill -9` loses only the lines that were still being written. */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

export class JsonLinesWriter {
  readonly #fd: number;

  constructor(readonly file: string) {
    this.#fd = openSync(file, 'a+');
    // A line torn by a kill would swallow the next one; end it so only the torn line is lost (and reported).
    const size = fstatSync(this.#fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.#fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) writeSync(this.#fd, '\n');
    }
  }

  /**
   * Synchronous on purpose: one `write` of the whole line (O_APPEND, so concurrent lines never interleave) and an
   * fsync before the caller moves on; the cost is a few hundred microseconds per image, nothing beside a model call.
   */
  append(value: unknown): void {
    writeSync(this.#fd, `${JSON.stringify(value)}\n`);
    fsyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
