/** Checks, before anything starts, that the local stack's ports are free, and names what usually holds one. */
import { createServer } from 'node:net';

export interface PortRequest {
  port: number;
  /** What we wanted it for, e.g. "Azurite blob". */
  service: string;
  /** What usually holds it, as a hint. */
  usualHolder: string;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly service: string,
    readonly usualHolder: string,
  ) {
    super(`Port ${port} (${service}) is already in use on 127.0.0.1. It is usually held by ${usualHolder}. Stop that, then run npm start again.`);
  }
}

/** Resolves when every port (other than 0) can be bound on 127.0.0.1; else rejects with a PortInUseError for the first taken one. */
export async function checkPortsFree(ports: readonly PortRequest[]): Promise<void> {
  for (const p of ports) {
    if (p.port === 0) continue;
    if (!(await canListen(p.port))) throw new PortInUseError(p.port, p.service, p.usualHolder);
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
