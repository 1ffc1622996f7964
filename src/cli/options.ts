import { type Command, Option } from 'commander';

/**
 * The options, in groups; each command declares only the groups it reads, so that its --help
 * lists what it uses and nothing else.
 */
export function targetOptions(command: Command): Command {
  return command
    .option('--db-url <url>', 'target database connection string (default: $SUPAGATE_DB_URL, preferred)')
    .option(
      '--project-dir <dir>',
      'project root (default: the nearest folder, from here up, holding supabase/config.toml or supabase/migrations)',
    );
}

export function migrationsOption(command: Command): Command {
  return command.option(
    '--migrations-dir <dir>',
    'migrations, relative to the project root',
    'supabase/migrations',
  );
}

export function rollbacksOption(command: Command): Command {
  return command.option(
    '--rollbacks-dir <dir>',
    'down migrations, <version>_<name>.sql, relative to the project root',
    'supabase/rollbacks',
  );
}

/** How local files and the database's history must agree. */
export function historyOptions(command: Command, options: { includeAll: boolean }): Command {
  if (options.includeAll)
    command.option('--include-all', 'apply pending migrations older than the newest applied one');
  return command
    .option('--strict-history', 'an applied version with no local file is an error, not a warning')
    .option('--allow-edited', 'an applied migration whose file changed is a warning, not an error');
}

export function schemasOption(command: Command): Command {
  return command.option(
    '--schemas <list>',
    "this app's schemas, comma-separated, for a database several apps share (default: every schema Supabase does not manage)",
  );
}

export function apiSchemasOption(command: Command): Command {
  return command.option(
    '--api-schemas <list>',
    'schemas PostgREST exposes, comma-separated',
    'public,graphql_public',
  );
}

export function jsonOption(command: Command): Command {
  return command.option('--json', 'print the result as JSON (progress stays on stderr)');
}

export function outOption(command: Command): Command {
  return command.option(
    '--out <file>',
    'also write the report to a file: markdown, or JSON when the name ends in .json',
  );
}

const SHADOW_DISPOSABLE_HELP =
  'the --shadow-url server exists only for supagate, one run at a time: it may drop and recreate its pg_cron database (cron.database_name) to plan in it (default: $SUPAGATE_SHADOW_DISPOSABLE)';

export function shadowOptions(command: Command): Command {
  return command
    .option(
      '--shadow-url <url>',
      'server for the shadow database, never production (default: $SUPAGATE_SHADOW_URL, a running `supabase start`, else an embedded PostgreSQL)',
    )
    .option('--shadow-disposable', SHADOW_DISPOSABLE_HELP)
    .option('--no-detect-local-supabase', 'do not use a running `supabase start` database as shadow server')
    .option(
      '--no-shadow-cache',
      'restore production into the embedded shadow every time, instead of starting from the baseline the last plan of the same production kept (default: on; $SUPAGATE_SHADOW_CACHE=off)',
    )
    .option(
      '--cache-dir <dir>',
      'where kept shadow baselines go (default: $SUPAGATE_CACHE_DIR, $XDG_CACHE_HOME/supagate, ~/.cache/supagate)',
    );
}

export function pgToolOptions(command: Command): Command {
  return command
    .option('--pg-dump <path>', 'pg_dump to use (default: PATH, then the usual install folders)')
    .option('--pg-restore <path>', 'pg_restore to use');
}

export function storeOptions(command: Command, help: string): Command {
  return command
    .addOption(
      new Option('--backup-store <kind>', help)
        .choices(['directory', 'supabase-storage'])
        .default('directory'),
    )
    .option('--backup-dir <dir>', 'directory store, relative to the project root', '.supagate/backups')
    .option('--backup-bucket <name>', 'private Supabase Storage bucket for backups', 'supagate-backups');
}

export function onOff(flag: string, help: string, fallback: 'on' | 'off'): Option {
  return new Option(flag, help).choices(['on', 'off']).default(fallback);
}

export const PROGRESS_HELP =
  '\nProgress goes to stderr: a live line on a terminal, plain lines otherwise (no colours with $NO_COLOR).';
