import type { Command } from 'commander';
import { backupsList } from '../core/commands/backups.js';
import { copyDatabase } from '../core/commands/copy.js';
import { diffDatabases } from '../core/commands/diff.js';
import { resolveConfig, URL_ENV } from '../core/config.js';
import { describeTarget } from '../core/db/redact.js';
import { SupagateError } from '../core/errors.js';
import { emitProgress } from '../core/progress.js';
import { renderBackups, renderCopy, renderDiff } from '../core/report/text.js';
import {
  type CliContext,
  type CliIo,
  type CommonFlags,
  configFrom,
  EXIT,
  missingUrl,
  urlFrom,
} from './context.js';
import { apiSchemasOption, jsonOption, pgToolOptions, storeOptions } from './options.js';

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

/** The two databases of copy or diff: flags, else environment variables (out of `ps`). */
function twoUrls(
  command: 'copy' | 'diff',
  flags: { from?: string; to?: string },
  io: CliIo,
): { from: string; to: string } {
  const [fromEnv, toEnv] =
    command === 'copy' ? [URL_ENV.copyFrom, URL_ENV.copyTo] : [URL_ENV.diffFrom, URL_ENV.diffTo];
  const from = urlFrom('--from', flags.from, fromEnv, io);
  const to = urlFrom('--to', flags.to, toEnv, io);
  const [fromWhat, toWhat] =
    command === 'copy'
      ? ['the source database', 'the target database']
      : ['the "before" database', 'the "after" database'];
  if (!from) throw missingUrl(command, '--from', fromEnv, fromWhat);
  if (!to) throw missingUrl(command, '--to', toEnv, toWhat);
  // Which databases, first: the report that names them comes at the end.
  emitProgress({ type: 'target', role: 'from', target: describeTarget(from).label });
  emitProgress({ type: 'target', role: 'to', target: describeTarget(to).label });
  return { from, to };
}

/* backups list, copy, diff: they work on backups or on two databases, not on the project's migrations. */

export function backupsCommand(program: Command, cli: CliContext): void {
  const backups = program.command('backups').description('Backups taken before apply.');
  const list = backups
    .command('list')
    .description('List the verified backups in the store, newest first.')
    .option(
      '--project-dir <dir>',
      'project root (default: the nearest folder, from here up, holding supabase/config.toml or supabase/migrations)',
    );
  storeOptions(list, 'where backups are');
  jsonOption(list).action(
    async (flags: CommonFlags & { backupStore?: string; backupDir?: string; backupBucket?: string }) => {
      const config = configFrom(flags, cli.io);
      await cli.report({
        name: 'backups',
        ...(flags.json ? { json: true } : {}),
        work: () => backupsList(config),
        render: renderBackups,
        exit: () => EXIT.ok,
      });
    },
  );
}

export function copyCommand(program: Command, cli: CliContext): void {
  const copy = program
    .command('copy')
    .description(
      'Copy a project to another instance (another region, or self-hosted): backup of the source, restored into the ' +
        'target in one transaction, row counts and RLS compared table by table. Refuses a target with tables unless --force.',
    )
    .option('--from <url>', `the source database (default: $${URL_ENV.copyFrom}, preferred)`)
    .option('--to <url>', `the target database (default: $${URL_ENV.copyTo}, preferred)`)
    .option('--force', 'replace what the target already has in the copied schemas')
    .option('--storage', 'also copy the Storage files ($SUPAGATE_FROM_SERVICE_KEY, $SUPAGATE_TO_SERVICE_KEY)')
    .option('--from-supabase-url <url>', 'with --storage: the source project URL (https://<ref>.supabase.co)')
    .option('--to-supabase-url <url>', 'with --storage: the target project URL');
  pgToolOptions(copy);
  jsonOption(copy).action(
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
      await cli.report({
        name: 'copy',
        ...(flags.json ? { json: true } : {}),
        work: () => {
          const { from, to } = twoUrls('copy', flags, cli.io);
          return copyDatabase(resolveConfig({ pgDumpPath: flags.pgDump, pgRestorePath: flags.pgRestore }), {
            from,
            to,
            force: flags.force ?? false,
            ...(flags.storage ? { storage: storageProjects(flags, cli.io) } : {}),
          });
        },
        render: renderCopy,
        exit: (r) => (r.ok ? EXIT.ok : EXIT.error),
      });
    },
  );
}

export function diffCommand(program: Command, cli: CliContext): void {
  const diff = program
    .command('diff')
    .description(
      'Schema diff, security lints and RLS access changes between two databases. Both are only read.',
    )
    .option('--from <url>', `the "before" database (default: $${URL_ENV.diffFrom}, preferred)`)
    .option('--to <url>', `the "after" database (default: $${URL_ENV.diffTo}, preferred)`);
  apiSchemasOption(diff);
  jsonOption(diff).action(
    async (flags: { from?: string; to?: string; apiSchemas?: string; json?: boolean }) => {
      await cli.report({
        name: 'diff',
        ...(flags.json ? { json: true } : {}),
        work: () => {
          const { from, to } = twoUrls('diff', flags, cli.io);
          return diffDatabases(from, to, resolveConfig({ apiSchemas: flags.apiSchemas }));
        },
        render: renderDiff,
        exit: () => EXIT.ok,
      });
    },
  );
}
