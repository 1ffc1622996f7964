import type { Command } from 'commander';
import { rollback, rollbackToBackup } from '../core/commands/rollback.js';
import type { ConfigInput } from '../core/config.js';
import { SupagateError } from '../core/errors.js';
import { renderRollback } from '../core/report/text.js';
import { type CliContext, type CommonFlags, configFrom, countsTo, EXIT, targetLabel } from './context.js';
import {
  jsonOption,
  migrationsOption,
  onOff,
  PROGRESS_HELP,
  pgToolOptions,
  rollbacksOption,
  schemasOption,
  storeOptions,
  targetOptions,
} from './options.js';
import { assertSupabaseDatabase } from './preflight.js';

interface RollbackFlags extends CommonFlags {
  to?: string;
  backup?: string;
  dryRun?: boolean;
  confirm?: string;
  allowOtherTarget?: boolean;
  discardWritesSinceBackup?: boolean;
  safetyBackup?: string;
  backupStore?: string;
  backupDir?: string;
  backupBucket?: string;
  pgDump?: string;
  pgRestore?: string;
}

export function rollbackCommand(program: Command, cli: CliContext): void {
  const command = program
    .command('rollback')
    .description(
      'Undo applied migrations, after a fresh verified backup. --to <version>: their down files ' +
        '(supabase/rollbacks/<version>_<name>.sql), newest first, each in a transaction with the removal of its ' +
        'history row. --backup <id>: restore that backup (schemas, rows, history) in one transaction, checked ' +
        'against its manifest.',
    );
  targetOptions(command);
  migrationsOption(command);
  rollbacksOption(command);
  schemasOption(command);
  command
    .option(
      '--to <version>',
      'the version to go back to with down files (it stays applied); 0 rolls back everything',
    )
    .option('--backup <id>', 'the backup to restore (see `supagate backups list`)')
    .option('--dry-run', 'print what would run, and change nothing')
    .option('--confirm <database>', 'required to change anything: the target database’s name')
    .option('--allow-other-target', 'restore a backup that was taken of another database')
    .option(
      '--discard-writes-since-backup',
      'restore even though rows were written since the backup (they are kept in the safety backup)',
    )
    .addOption(onOff('--safety-backup <on|off>', 'backup before rolling back', 'on'));
  storeOptions(command, 'where backups are');
  pgToolOptions(command);
  jsonOption(command)
    .addHelpText('after', PROGRESS_HELP)
    .action(async (flags: RollbackFlags) => {
      const config = configFrom(
        {
          ...flags,
          backup: flags.safetyBackup,
          pgDumpPath: flags.pgDump,
          pgRestorePath: flags.pgRestore,
        } as CommonFlags & ConfigInput,
        cli.io,
      );
      const common = {
        dryRun: flags.dryRun ?? false,
        ...(flags.confirm ? { confirm: flags.confirm } : {}),
      };
      await cli.report({
        name: 'rollback',
        ...(flags.json ? { json: true } : {}),
        targets: targetLabel(config.dbUrl),
        work: async (progress) => {
          if ((flags.to === undefined) === (flags.backup === undefined)) {
            throw new SupagateError(
              'CONFIG_INVALID',
              'rollback needs exactly one of --to <version> and --backup <id>',
              {
                hint: '--to runs down files back to a version; --backup restores a backup taken before an apply.',
                details: { setting: 'to' },
              },
            );
          }
          await assertSupabaseDatabase(config.dbUrl, flags.dbUrl ? '--db-url' : '$SUPAGATE_DB_URL');
          return flags.backup !== undefined
            ? rollbackToBackup(config, {
                backupId: flags.backup,
                ...common,
                ...(flags.allowOtherTarget ? { allowOtherTarget: true } : {}),
                ...(flags.discardWritesSinceBackup ? { discardWritesSinceBackup: true } : {}),
              })
            : rollback(config, { to: flags.to as string, ...common, onProgress: countsTo(progress, cli.io) });
        },
        render: renderRollback,
        exit: (r) => (r.status === 'failed' ? EXIT.error : EXIT.ok),
      });
    });
}
