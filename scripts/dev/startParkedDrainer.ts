/** Starts the dev host's drain of PARKING_QUEUE with the function table's queue handler, when parking is on. */
import type { Env } from '../../shared/config';
import type { FunctionDefinition, QueueFunctionDefinition, Services } from '../../shared/runtime';
import { createQueueServiceClient } from '../../shared/throughput/createParking';
import { ParkedQueueDrainer } from './ParkedQueueDrainer';

export function startParkedDrainer(services: Services, env: Env, table: readonly FunctionDefinition[], log: (line: string) => void): ParkedQueueDrainer | undefined {
  const queue = services.parking?.queue;
  const def = table.find((f): f is QueueFunctionDefinition => f.trigger === 'queue');
  if (queue === undefined || def === undefined) return undefined;
  const poison = createQueueServiceClient(services.config.storage, env).getQueueClient(`${queue.name}-poison`);
  const logger = { info: (m: string): void => log(m), warn: (m: string): void => log(m), error: (m: string): void => log(m) };
  const drainer = new ParkedQueueDrainer({ queue, poison, run: (text) => def.handler(text, logger, services), log });
  drainer.start();
  return drainer;
}
