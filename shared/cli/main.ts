/** Entry point of the `blobsight` bin (bin/blobsight.js loads the compiled copy of this file). */
import { exitQuietlyOnClosedPipe } from './exitQuietlyOnClosedPipe';
import { runCli } from './program';

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  exitQuietlyOnClosedPipe();
  const code = await runCli(argv);
  // SDK clients (Cosmos, identity, TensorFlow's wasm backend) may keep handles open; the run is over and every
  // line is already fsync'ed, so leave once stdout and stderr have drained.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (require.main === module) void main();
