/**
 * The dev host's stand-in for the Functions queue trigger on PARKING_QUEUE: polls Azurite's queue, runs the table's
 * drainParked handler with bounded concurrency (host.json's batchSize + newBatchThreshold), deletes a message only
 * when the handler returned, leaves a failed one to reappear after its visibility timeout, and moves one that failed
 * maxDequeueCount times to `<queue>-poison`, as the host does.
 */
import type { QueueClient } from '@azure/storage-queue';

export interface ParkedQueueDrainerOptions {
  queue: QueueClient;
  /** `<queue>-poison`, created when first needed. */
  poison: QueueClient;
  /** The drainParked handler, given the message text. */
  run: (messageText: string) => Promise<unknown>;
  /** Messages in hand at once; default 24 (host.json batchSize 16 + newBatchThreshold 8). */
  concurrency?: number;
  /** Idle polling interval; default 2 s (host.json maxPollingInterval). */
  pollMs?: number;
  /** Seconds a received message stays hidden while it is worked on (host.json visibilityTimeout is the retry delay). */
  visibilityTimeoutS?: number;
  maxDequeueCount?: number;
  log?: (line: string) => void;
}

export class ParkedQueueDrainer {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly inHand = new Set<Promise<void>>();
  private wake: (() => void) | undefined;

  constructor(private readonly o: ParkedQueueDrainerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inHand]);
  }

  private async run(): Promise<void> {
    const concurrency = this.o.concurrency ?? 24;
    const log = this.o.log ?? ((): void => undefined);
    while (!this.stopped) {
      const free = Math.min(32, concurrency - this.inHand.size);
      let got = 0;
      if (free > 0) {
        try {
          const r = await this.o.queue.receiveMessages({ numberOfMessages: free, visibilityTimeout: this.o.visibilityTimeoutS ?? 60 });
          got = r.receivedMessageItems.length;
          for (const m of r.receivedMessageItems) {
            const p: Promise<void> = this.handle(m.messageId, m.popReceipt, m.messageText, m.dequeueCount, log).finally(() => this.inHand.delete(p));
            this.inHand.add(p);
          }
        } catch (e) {
          log(`parking queue: could not receive (${e instanceof Error ? e.message : String(e)}); trying again`);
        }
      }
      if (got === 0 || free <= 0) await this.pause(free <= 0 ? 100 : (this.o.pollMs ?? 2_000));
    }
  }

  private async handle(id: string, popReceipt: string, text: string, dequeueCount: number, log: (line: string) => void): Promise<void> {
    const max = this.o.maxDequeueCount ?? 5;
    if (dequeueCount > max) {
      await this.o.poison.createIfNotExists();
      await this.o.poison.sendMessage(text);
      await this.o.queue.deleteMessage(id, popReceipt);
      log(`parking queue: message ${id} failed ${max} times; moved to ${this.o.poison.name}`);
      return;
    }
    try {
      await this.o.run(text);
      await this.o.queue.deleteMessage(id, popReceipt);
    } catch (e) {
      log(`parking queue: message ${id} failed (${e instanceof Error ? e.message : String(e)}); it comes back after its visibility timeout`);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
