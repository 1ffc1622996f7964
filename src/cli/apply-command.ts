import { type Command, Option } from 'commander';
import { apply } from '../core/commands/apply.js';
import type { ConfigInput } from '../core/config.js';
import { renderApply } from '../core/report/text.js';
import {
  type CliContext,
  type CommonFlags,
  configFrom,
  countsTo,
  EXIT,
  type ShadowFlags,
  shadowSettings,
  targetLabel,
} from './context.js';
import {
  historyOptions,
  jsonOption,
  migrationsOption,
  onOff,
  PROGRESS_HELP,
  pgToolOptions,
  rollbacksOption,
  schemasOption,
  shadowOptions,
  storeOptions,
  targetOptions,
} from './options.js';
import { assertSupabaseDatabase } from './preflight.js';

interface ApplyFlags extends CommonFlags, ShadowFlags {
  dryRun?: boolean;
  atomic?: string;
  lockWait?: string;
  lockTimeout?: string;
  statementTimeout?: string;
  lockRetries?: string;
  stallTimeout?: string;
  backup?: string;
  backupStore?: string;
  backupDir?: string;
  backupBucket?: string;
  backupScope?: string;
  verify?: string;
  onVerifyFailure?: string;
}

export function applyCommand(program: Command, cli: CliContext): void {
  const command = program
    .command('apply')
    .description(
      'Apply pending migrations: advisory lock, each migration in its own transaction with its history row.',
    );
  targetOptions(command);
  migrationsOption(command);
  rollbacksOption(command);
  historyOptions(command, { includeAll: true });
  schemasOption(command);
  command
    .option('--dry-run', 'print exactly what would run, in order, and change nothing')
    .addOption(
      new Option(
        '--atomic <mode>',
        'per-migration: a transaction each; all: one transaction for every pending migration',
      )
        .choices(['per-migration', 'all'])
        .default('per-migration'),
    )
    .option('--lock-wait <duration>', 'how long to wait for another run’s lock', '5min')
    .option('--lock-timeout <duration>', 'lock_timeout for migration statements', '5s')
    .option('--statement-timeout <duration>', 'statement_timeout for migration statements (0: none)', '30min')
    .option('--lock-retries <n>', 'retries of a migration that hit lock_timeout', '3')
    .option(
      '--stall-timeout <duration>',
      'stop a backup that makes no progress this long (pg_dump writes nothing, a count waits on a lock); 0: never',
      '5min',
    )
    .addOption(
      onOff('--backup <on|off>', 'verified backup before anything changes; off must be explicit', 'on'),
    );
  storeOptions(command, 'where backups go (supabase-storage: $SUPABASE_URL, $SUPABASE_SERVICE_ROLE_KEY)');
  command.addOption(
    new Option('--backup-scope <scope>', 'data: user schemas with rows; schema: definitions only')
      .choices(['data', 'schema'])
      .default('data'),
  );
  pgToolOptions(command);
  command
    .addOption(
      onOff(
        '--verify <on|off>',
        'plan on a shadow first, then check counts, RLS and the schema after applying',
        'on',
      ),
    )
    .addOption(
      new Option(
        '--on-verify-failure <action>',
        'report: print the rollback command; rollback: run the down files',
      )
        .choices(['report', 'rollback'])
        .default('report'),
    );
  shadowOptions(command);
  jsonOption(command);
  command
    .addHelpText(
      'after',
      `\nThe backup is encrypted (AES-256-GCM) when $SUPAGATE_BACKUP_KEY is set: 64 hex characters, base64 of 32 bytes, or a passphrase.${PROGRESS_HELP}`,
    )
    .action(async (flags: ApplyFlags) => {
      const config = configFrom(
        {
          ...flags,
          ...shadowSettings(flags, cli.io),
          lockWaitMs: flags.lockWait,
          lockTimeoutMs: flags.lockTimeout,
          statementTimeoutMs: flags.statementTimeout,
          stallTimeoutMs: flags.stallTimeout,
        } as CommonFlags & ConfigInput,
        cli.io,
      );
      await cli.report({
        name: 'apply',
        ...(flags.json ? { json: true } : {}),
        targets: targetLabel(config.dbUrl),
        work: async (progress) => {
          await assertSupabaseDatabase(config.dbUrl, flags.dbUrl ? '--db-url' : '$SUPAGATE_DB_URL');
          return apply(config, { dryRun: flags.dryRun ?? false, onProgress: countsTo(progress, cli.io) });
        },
        render: renderApply,
        exit: (r) =>
          r.status === 'failed' || r.status === 'verify-failed'
            ? EXIT.error
            : r.blockingReasons.length > 0
              ? EXIT.blocking
              : EXIT.ok,
      });
    });
}
