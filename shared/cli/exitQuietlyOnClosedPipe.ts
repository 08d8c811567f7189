/**
 * `blobsight … | head`: once the reader of stdout (or stderr) has gone, a write fails with EPIPE, and an
 * unhandled stream 'error' crashes the process with a stack trace. Nobody is left to read anything, so leave
 * quietly with 0, as a reader that closes early expects; any other stream error still crashes loudly.
 */
export function exitQuietlyOnClosedPipe(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr], exit: (code: number) => void = (code) => process.exit(code)): void {
  for (const stream of streams) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      exit(0);
    });
  }
}
