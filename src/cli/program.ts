import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { apply } from '../core/commands/apply.js';
import { backupsList } from '../core/commands/backups.js';
import { copyDatabase } from '../core/commands/copy.js';
import { diffDatabases } from '../core/commands/diff.js';
import { type DriftResult, drift } from '../core/commands/drift.js';
import { type PlanResult, plan } from '../core/commands/plan.js';
import { rollback, rollbackToBackup } from '../core/commands/rollback.js';
import { status } from '../core/commands/status.js';
import { verify } from '../core/commands/verify.js';
import { type ConfigInput, resolveConfig } from '../core/config.js';
import { SupagateError } from '../core/errors.js';
import { interruptReceived } from '../core/interrupt.js';
import { renderJson, renderJsonError } from '../core/report/json.js';
import { renderDriftMarkdown, renderPlanMarkdown, SUMMARY_LIMIT } from '../core/report/markdown.js';
import { countProgressPrinter } from '../core/report/progress.js';
import {
  renderApply,
  renderBackups,
  renderCopy,
  renderDiff,
  renderDrift,
  renderError,
  renderPlan,
  renderRollback,
  renderStatus,
  renderVerify,
} from '../core/report/text.js';
import { VERSION } from '../core/version.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

/**
 * Exit codes: 0 success, 1 error or refusal (an environment problem too: a shadow that cannot
 * start or lacks an extension), 2 usage error, 3 plan has blocking findings (drift: production
 * drifted). Interrupted: 130 (SIGINT), 143 (SIGTERM), see core/interrupt.ts.
 */
export const EXIT = { ok: 0, error: 1, usage: 2, blocking: 3 } as const;

/** A plan the shadow could not make (it lacks an extension production has) is an error to fix in the setup, not a finding. */
export function planExit(result: Pick<PlanResult, 'blocking' | 'failure'>): number {
  if (result.failure?.kind === 'environment') return EXIT.error;
  return result.blocking ? EXIT.blocking : EXIT.ok;
}

interface CommonFlags {
  projectDir?: string;
  schemas?: string;
  migrationsDir?: string;
  rollbacksDir?: string;
  dbUrl?: string;
  json?: boolean;
  includeAll?: boolean;
  strictHistory?: boolean;
  allowEdited?: boolean;
}

function withCommonOptions(command: Command): Command {
  return command
    .option('--db-url <url>', 'target database connection string (default: $SUPAGATE_DB_URL)')
    .option('--project-dir <dir>', 'project root', '.')
    .option('--migrations-dir <dir>', 'migrations, relative to the project root', 'supabase/migrations')
    .option(
      '--rollbacks-dir <dir>',
      'down migrations, <version>_<name>.sql, relative to the project root',
      'supabase/rollbacks',
    )
    .option('--include-all', 'apply pending migrations older than the newest applied one')
    .option('--strict-history', 'an applied version with no local file is an error, not a warning')
    .option('--allow-edited', 'an applied migration whose file changed is a warning, not an error')
    .option(
      '--schemas <list>',
      "this app's schemas, comma-separated, for a database several apps share (default: every schema Supabase does not manage)",
    )
    .option('--json', 'print the result as JSON');
}

interface ShadowFlags {
  shadowUrl?: string;
  shadowDisposable?: boolean;
  detectLocalSupabase?: boolean;
  pgDump?: string;
  pgRestore?: string;
}

const SHADOW_DISPOSABLE_FLAG = '--shadow-disposable';
const SHADOW_DISPOSABLE_HELP =
  'the --shadow-url server exists only for supagate, one run at a time: it may drop and recreate its pg_cron database (cron.database_name) to plan in it (default: $SUPAGATE_SHADOW_DISPOSABLE)';

/** The common options and those of commands that run migrations on a shadow (plan, drift). */
function withShadowOptions(command: Command): Command {
  return withCommonOptions(command)
    .option(
      '--shadow-url <url>',
      'server for the shadow database, never production (default: $SUPAGATE_SHADOW_URL, a running `supabase start`, else an embedded PostgreSQL)',
    )
    .option(SHADOW_DISPOSABLE_FLAG, SHADOW_DISPOSABLE_HELP)
    .option('--no-detect-local-supabase', 'do not use a running `supabase start` database as shadow server')
    .option('--pg-dump <path>', 'pg_dump to use (default: PATH, then the usual install folders)')
    .option('--pg-restore <path>', 'pg_restore to use');
}

function shadowSettings(flags: ShadowFlags, io: CliIo): ConfigInput {
  return {
    shadowUrl: flags.shadowUrl ?? io.env.SUPAGATE_SHADOW_URL,
    shadowDisposable: flags.shadowDisposable ?? io.env.SUPAGATE_SHADOW_DISPOSABLE,
    detectLocalSupabase: flags.detectLocalSupabase,
    pgDumpPath: flags.pgDump,
    pgRestorePath: flags.pgRestore,
  };
}

function configFrom(flags: CommonFlags & ConfigInput, io: CliIo) {
  return resolveConfig({
    ...flags,
    dbUrl: flags.dbUrl ?? io.env.SUPAGATE_DB_URL,
    backupKey: io.env.SUPAGATE_BACKUP_KEY,
    supabaseUrl: io.env.SUPABASE_URL,
    supabaseServiceKey: io.env.SUPABASE_SERVICE_ROLE_KEY,
    actor: io.env.GITHUB_ACTOR ?? safeUser(),
    runId: io.env.GITHUB_RUN_ID,
  });
}

function safeUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

async function writeReport(path: string, result: object, ok: boolean): Promise<void> {
  const command = (result as { command?: string }).command;
  const body = path.endsWith('.json')
    ? renderJson(result, ok)
    : command === 'plan'
      ? renderPlanMarkdown(result as PlanResult, { limit: SUMMARY_LIMIT })
      : command === 'drift'
        ? renderDriftMarkdown(result as DriftResult, { limit: SUMMARY_LIMIT })
        : renderJson(result, ok);
  await writeFile(path, `${body}\n`);
}

/** Both projects' Storage API endpoints; the keys come from the environment, never argv. */
function storageProjects(
  flags: { fromSupabaseUrl?: string; toSupabaseUrl?: string },
  io: CliIo,
): { from: { url: string; serviceKey: string }; to: { url: string; serviceKey: string } } {
  const fromKey = io.env.SUPAGATE_FROM_SERVICE_KEY;
  const toKey = io.env.SUPAGATE_TO_SERVICE_KEY;
  const missing = [
    ...(flags.fromSupabaseUrl ? [] : ['--from-supabase-url']),
    ...(flags.toSupabaseUrl ? [] : ['--to-supabase-url']),
    ...(fromKey ? [] : ['$SUPAGATE_FROM_SERVICE_KEY']),
    ...(toKey ? [] : ['$SUPAGATE_TO_SERVICE_KEY']),
  ];
  if (missing.length > 0 || !flags.fromSupabaseUrl || !flags.toSupabaseUrl || !fromKey || !toKey) {
    throw new SupagateError('CONFIG_INVALID', `copy --storage needs ${missing.join(', ')}`, {
      hint: 'Pass both project URLs, and both service_role keys in the environment (never on the command line).',
      details: { setting: 'storage' },
    });
  }
  return {
    from: { url: flags.fromSupabaseUrl, serviceKey: fromKey },
    to: { url: flags.toSupabaseUrl, serviceKey: toKey },
  };
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command()
    .name('supagate')
    .description(
      'Safe Supabase/PostgreSQL migrations: status, plan, apply, rollback, drift, verify, backups, copy, diff.',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  const report = async <R extends object>(
    name: string,
    flags: CommonFlags,
    work: () => Promise<R>,
    render: (result: R) => string,
    exit: (result: R) => number,
    out?: string,
  ) => {
    try {
      const result = await work();
      // The interrupt handler reports what was done and exits; a half-finished result would contradict it.
      if (interruptReceived()) return;
      io.stdout(`${flags.json ? renderJson(result, exit(result) === EXIT.ok) : render(result)}\n`);
      if (out) await writeReport(out, result, exit(result) === EXIT.ok);
      exitCode = exit(result);
    } catch (error) {
      if (interruptReceived()) return;
      io.stderr(`${flags.json ? renderJsonError(name, error) : renderError(error)}\n`);
      exitCode = EXIT.error;
    }
  };

  withCommonOptions(
    program
      .command('status')
      .description(
        'Compare local migration files with the database history: applied, pending, edited, missing. Read-only.',
      ),
  ).action(async (flags: CommonFlags) => {
    await report(
      'status',
      flags,
      () => status(configFrom(flags, io)),
      renderStatus,
      (r) => (r.ok ? EXIT.ok : EXIT.error),
    );
  });

  withCommonOptions(
    program
      .command('apply')
      .description(
        'Apply pending migrations: advisory lock, each migration in its own transaction with its history row.',
      ),
  )
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
      new Option('--backup <on|off>', 'verified backup before anything changes; off must be explicit')
        .choices(['on', 'off'])
        .default('on'),
    )
    .addOption(
      new Option(
        '--backup-store <kind>',
        'where backups go (supabase-storage: $SUPABASE_URL, $SUPABASE_SERVICE_ROLE_KEY)',
      )
        .choices(['directory', 'supabase-storage'])
        .default('directory'),
    )
    .option('--backup-dir <dir>', 'directory store, relative to the project root', '.supagate/backups')
    .option('--backup-bucket <name>', 'private Supabase Storage bucket for backups', 'supagate-backups')
    .addOption(
      new Option('--backup-scope <scope>', 'data: user schemas with rows; schema: definitions only')
        .choices(['data', 'schema'])
        .default('data'),
    )
    .option('--pg-dump <path>', 'pg_dump to use for the backup')
    .option('--pg-restore <path>', 'pg_restore to use to verify the backup')
    .addOption(
      new Option(
        '--verify <on|off>',
        'plan on a shadow first, then check counts, RLS and the schema after applying',
      )
        .choices(['on', 'off'])
        .default('on'),
    )
    .addOption(
      new Option(
        '--on-verify-failure <action>',
        'report: print the rollback command; rollback: run the down files',
      )
        .choices(['report', 'rollback'])
        .default('report'),
    )
    .option(
      '--shadow-url <url>',
      'server for the shadow database of the prediction (default: $SUPAGATE_SHADOW_URL, …)',
    )
    .option(SHADOW_DISPOSABLE_FLAG, SHADOW_DISPOSABLE_HELP)
    .option('--no-detect-local-supabase', 'do not use a running `supabase start` database as shadow server')
    .addHelpText(
      'after',
      '\nThe backup is encrypted (AES-256-GCM) when $SUPAGATE_BACKUP_KEY is set: 64 hex characters, base64 of 32 bytes, or a passphrase.',
    )
    .action(
      async (
        flags: CommonFlags & {
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
          pgDump?: string;
          pgRestore?: string;
          verify?: string;
          onVerifyFailure?: string;
          shadowUrl?: string;
          shadowDisposable?: boolean;
          detectLocalSupabase?: boolean;
        },
      ) => {
        await report(
          'apply',
          flags,
          () =>
            apply(
              configFrom(
                {
                  ...flags,
                  atomic: flags.atomic,
                  lockWaitMs: flags.lockWait,
                  lockTimeoutMs: flags.lockTimeout,
                  statementTimeoutMs: flags.statementTimeout,
                  lockRetries: flags.lockRetries,
                  stallTimeoutMs: flags.stallTimeout,
                  backup: flags.backup,
                  backupStore: flags.backupStore,
                  backupDir: flags.backupDir,
                  backupBucket: flags.backupBucket,
                  backupScope: flags.backupScope,
                  pgDumpPath: flags.pgDump,
                  pgRestorePath: flags.pgRestore,
                  verify: flags.verify,
                  onVerifyFailure: flags.onVerifyFailure,
                  shadowUrl: flags.shadowUrl ?? io.env.SUPAGATE_SHADOW_URL,
                  shadowDisposable: flags.shadowDisposable ?? io.env.SUPAGATE_SHADOW_DISPOSABLE,
                  detectLocalSupabase: flags.detectLocalSupabase,
                } as CommonFlags & ConfigInput,
                io,
              ),
              { dryRun: flags.dryRun ?? false, onProgress: countProgressPrinter(io.stderr) },
            ),
          renderApply,
          (r) =>
            r.status === 'failed' || r.status === 'verify-failed'
              ? EXIT.error
              : r.blockingReasons.length > 0
                ? EXIT.blocking
                : EXIT.ok,
        );
      },
    );

  withShadowOptions(
    program
      .command('plan')
      .description(
        'What the pending migrations will do to production: schema diff, hazards, security lints, RLS access changes. ' +
          'Production is only read; the migrations run in a shadow database. Exit 3 when something blocks.',
      ),
  )
    .option('--api-schemas <list>', 'schemas PostgREST exposes, comma-separated', 'public,graphql_public')
    .option('--roles <list>', 'more roles for the RLS access matrix, comma-separated')
    .option('--large-table-rows <n>', 'rows from which a table counts as large for locking hazards', '100000')
    .option('--out <file>', 'also write the report to a file: markdown, or JSON when the name ends in .json')
    .action(
      async (
        flags: CommonFlags &
          ShadowFlags & {
            apiSchemas?: string;
            roles?: string;
            largeTableRows?: string;
            out?: string;
          },
      ) => {
        const config = configFrom(
          {
            ...flags,
            ...shadowSettings(flags, io),
            apiSchemas: flags.apiSchemas,
            extraRoles: flags.roles,
            largeTableRows: flags.largeTableRows,
          } as CommonFlags & ConfigInput,
          io,
        );
        await report('plan', flags, () => plan(config), renderPlan, planExit, flags.out);
      },
    );

  withCommonOptions(
    program
      .command('rollback')
      .description(
        'Undo applied migrations, after a fresh verified backup. --to <version>: their down files ' +
          '(supabase/rollbacks/<version>_<name>.sql), newest first, each in a transaction with the removal of its ' +
          'history row. --backup <id>: restore that backup (schemas, rows, history) in one transaction, checked ' +
          'against its manifest.',
      ),
  )
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
    .addOption(
      new Option('--safety-backup <on|off>', 'backup before rolling back')
        .choices(['on', 'off'])
        .default('on'),
    )
    .addOption(
      new Option('--backup-store <kind>', 'where backups are')
        .choices(['directory', 'supabase-storage'])
        .default('directory'),
    )
    .option('--backup-dir <dir>', 'directory store, relative to the project root', '.supagate/backups')
    .option('--backup-bucket <name>', 'Supabase Storage bucket', 'supagate-backups')
    .option('--pg-dump <path>', 'pg_dump to use for the backup')
    .option('--pg-restore <path>', 'pg_restore to use for the restore')
    .action(
      async (
        flags: CommonFlags & {
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
        },
      ) => {
        const config = configFrom(
          {
            ...flags,
            backup: flags.safetyBackup,
            backupStore: flags.backupStore,
            backupDir: flags.backupDir,
            backupBucket: flags.backupBucket,
            pgDumpPath: flags.pgDump,
            pgRestorePath: flags.pgRestore,
          } as CommonFlags & ConfigInput,
          io,
        );
        const common = {
          dryRun: flags.dryRun ?? false,
          ...(flags.confirm ? { confirm: flags.confirm } : {}),
        };
        const progress = { onProgress: countProgressPrinter(io.stderr) };
        await report(
          'rollback',
          flags,
          async () => {
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
            return flags.backup !== undefined
              ? rollbackToBackup(config, {
                  backupId: flags.backup,
                  ...common,
                  ...(flags.allowOtherTarget ? { allowOtherTarget: true } : {}),
                  ...(flags.discardWritesSinceBackup ? { discardWritesSinceBackup: true } : {}),
                })
              : rollback(config, { to: flags.to as string, ...common, ...progress });
          },
          renderRollback,
          (r) => (r.status === 'failed' ? EXIT.error : EXIT.ok),
        );
      },
    );

  const backups = program.command('backups').description('Backups taken before apply.');
  backups
    .command('list')
    .description('List the verified backups in the store, newest first.')
    .option('--project-dir <dir>', 'project root', '.')
    .addOption(
      new Option('--backup-store <kind>', 'where backups are')
        .choices(['directory', 'supabase-storage'])
        .default('directory'),
    )
    .option('--backup-dir <dir>', 'directory store, relative to the project root', '.supagate/backups')
    .option('--backup-bucket <name>', 'Supabase Storage bucket', 'supagate-backups')
    .option('--json', 'print the result as JSON')
    .action(
      async (flags: CommonFlags & { backupStore?: string; backupDir?: string; backupBucket?: string }) => {
        const config = configFrom(
          {
            ...flags,
            backupStore: flags.backupStore,
            backupDir: flags.backupDir,
            backupBucket: flags.backupBucket,
          } as CommonFlags & ConfigInput,
          io,
        );
        await report(
          'backups',
          flags,
          () => backupsList(config),
          renderBackups,
          () => EXIT.ok,
        );
      },
    );

  program
    .command('copy')
    .description(
      'Copy a project to another instance (another region, or self-hosted): backup of the source, restored into the ' +
        'target in one transaction, row counts and RLS compared table by table. Refuses a target with tables unless --force.',
    )
    .option('--from <url>', 'the source database')
    .option('--to <url>', 'the target database')
    .option('--force', 'replace what the target already has in the copied schemas')
    .option('--storage', 'also copy the Storage files ($SUPAGATE_FROM_SERVICE_KEY, $SUPAGATE_TO_SERVICE_KEY)')
    .option('--from-supabase-url <url>', 'with --storage: the source project URL (https://<ref>.supabase.co)')
    .option('--to-supabase-url <url>', 'with --storage: the target project URL')
    .option('--pg-dump <path>', 'pg_dump to use')
    .option('--pg-restore <path>', 'pg_restore to use')
    .option('--json', 'print the result as JSON')
    .action(
      async (flags: {
        from?: string;
        to?: string;
        force?: boolean;
        storage?: boolean;
        fromSupabaseUrl?: string;
        toSupabaseUrl?: string;
        pgDump?: string;
        pgRestore?: string;
        json?: boolean;
      }) => {
        await report(
          'copy',
          flags,
          () =>
            copyDatabase(resolveConfig({ pgDumpPath: flags.pgDump, pgRestorePath: flags.pgRestore }), {
              from: flags.from,
              to: flags.to,
              force: flags.force ?? false,
              ...(flags.storage ? { storage: storageProjects(flags, io) } : {}),
            }),
          renderCopy,
          (r) => (r.ok ? EXIT.ok : EXIT.error),
        );
      },
    );

  withShadowOptions(
    program
      .command('drift')
      .description(
        'Does production still look like what its applied migrations produce? Replays them on a shadow holding only ' +
          'what Supabase provides and compares the result with production, which is only read. Exit 3 when it drifted.',
      ),
  )
    .option('--out <file>', 'also write the report to a file: markdown, or JSON when the name ends in .json')
    .action(async (flags: CommonFlags & ShadowFlags & { out?: string }) => {
      const config = configFrom({ ...flags, ...shadowSettings(flags, io) } as CommonFlags & ConfigInput, io);
      await report(
        'drift',
        flags,
        () => drift(config),
        renderDrift,
        (r) => (r.status === 'in-sync' ? EXIT.ok : r.status === 'drifted' ? EXIT.blocking : EXIT.error),
        flags.out,
      );
    });

  withCommonOptions(
    program
      .command('verify')
      .description(
        'Check production as it is now: every table of the API schemas has row level security, each identity of ' +
          'supabase/supagate.yml sees what its expectations say, the verify scripts in supabase/verify pass. ' +
          'Only reads. Exit 3 when a check fails.',
      ),
  )
    .option('--api-schemas <list>', 'schemas PostgREST exposes, comma-separated', 'public,graphql_public')
    .action(async (flags: CommonFlags & { apiSchemas?: string }) => {
      const config = configFrom({ ...flags, apiSchemas: flags.apiSchemas } as CommonFlags & ConfigInput, io);
      await report(
        'verify',
        flags,
        () => verify(config),
        renderVerify,
        (r) => (r.ok ? EXIT.ok : EXIT.blocking),
      );
    });

  program
    .command('diff')
    .description(
      'Schema diff, security lints and RLS access changes between two databases. Both are only read.',
    )
    .option('--from <url>', 'the "before" database')
    .option('--to <url>', 'the "after" database')
    .option('--api-schemas <list>', 'schemas PostgREST exposes, comma-separated', 'public,graphql_public')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { from?: string; to?: string; apiSchemas?: string; json?: boolean }) => {
      await report(
        'diff',
        flags,
        () => diffDatabases(flags.from, flags.to, resolveConfig({ apiSchemas: flags.apiSchemas })),
        renderDiff,
        () => EXIT.ok,
      );
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // A setting refused while the command's options are read, before `report` runs.
    if (error instanceof SupagateError) {
      const json = argv.includes('--json');
      io.stderr(`${json ? renderJsonError(argv[0] ?? 'supagate', error) : renderError(error)}\n`);
      return EXIT.error;
    }
    throw error;
  }
  return exitCode;
}
