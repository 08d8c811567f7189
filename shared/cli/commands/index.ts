/**
 * Every `blobsight` subcommand, one factory each. Adding a command is one line here: a function returning a
 * commander `Command` whose action sets `process.exitCode` (0 or 1) or throws UsageError / RunFolderError /
 * ConfigError for exit 2.
 */
import type { Command } from 'commander';

import { backfillCommand } from './backfill';
import { evaluateCommand } from './evaluate';
import { createExportCommand } from './export';
import { finetuneCommand } from './finetune';
import { createImportCommand } from './import';
import { labelCommand } from './label';
import { reportCommand } from './report';
import { runsCommand } from './runs';
import { visualizeCommand } from './visualize';

export const COMMANDS: readonly (() => Command)[] = [labelCommand, runsCommand, () => createExportCommand(), () => createImportCommand(), () => evaluateCommand(), visualizeCommand, reportCommand, backfillCommand, () => finetuneCommand()];
