/** The root `blobsight` command, built from the command list, and the one place errors become exit codes. */
import { Command, CommanderError } from 'commander';

import { isConfigError } from '../errors';
import { RunFolderError } from '../runs';
import { cliVersion } from './cliVersion';
import { COMMANDS } from './commands';
import { EXIT } from './exitCodes';
import { UsageError } from './UsageError';

export function buildProgram(commands: readonly (() => Command)[] = COMMANDS): Command {
  const program = new Command('blobsight')
    .description('Label images with GPT-4o (or the embedded local detector) from the command line: tracked, resumable runs with a cost estimate.')
    .version(cliVersion(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const make of commands) program.addCommand(make());
  // Every subcommand (and theirs) throws instead of exiting, so the exit code is decided in runCli.
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/** Runs the CLI on `argv` (process.argv form) and returns the exit code. */
export async function runCli(argv: readonly string[], program: Command = buildProgram()): Promise<number> {
  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with code 0; commander already printed the usage error message.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' || e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError || e instanceof RunFolderError) {
      process.stderr.write(`blobsight: ${e.message}\n`);
      return EXIT.usage;
    }
    if (isConfigError(e)) {
      process.stderr.write(`blobsight: the settings (environment, .env, local.settings.json) are not valid:\n${e.issues.map((i) => `  - ${i}`).join('\n')}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`blobsight: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.usage;
  }
}
