/** Where the finetune commands write, what they connect with and how they end; tests pass their own (the fake's fetch, a test credential). */
import type { TokenCredential } from '@azure/identity';

import type { CommandIo } from '../cli/commands/commandIo';
import { processIo } from '../cli/commands/commandIo';

export interface FinetuneIo extends CommandIo {
  /** The fetch under the OpenAI client (tests drop a connection with it to simulate a crash). */
  fetch?: typeof fetch;
  /** Keyless auth for Azure OpenAI (without a key) and for Azure Resource Manager; default DefaultAzureCredential. */
  credential?: TokenCredential;
  /** stderr is a terminal: a progress bar instead of lines. */
  tty: boolean;
  /** Stops following a job (Ctrl-C in the CLI). */
  stop?: AbortSignal;
}

export function finetuneProcessIo(): FinetuneIo {
  const base = processIo();
  return {
    stdout: base.stdout,
    stderr: base.stderr,
    setExitCode: base.setExitCode,
    get env() {
      return base.env;
    },
    tty: process.stderr.isTTY === true,
  };
}
