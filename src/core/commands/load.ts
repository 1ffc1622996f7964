import type { SupagateConfig } from '../config.js';
import { type Connection, connect, disconnect } from '../db/connect.js';
import { type ErrorCode, SupagateError } from '../errors.js';
import { type DiscoveredMigrations, type DiscoverOptions, discoverMigrations } from '../migrations/files.js';
import { readHistory } from '../migrations/history.js';
import { computeStatus, type MigrationStatus, type Problem } from '../migrations/pending.js';

export function requireDbUrl(config: SupagateConfig): string {
  if (!config.dbUrl) {
    throw new SupagateError('CONFIG_INVALID', 'No target database given', {
      hint: 'Pass --db-url, or set SUPAGATE_DB_URL (preferred: keeps the password out of the process list).',
      details: { setting: 'db-url' },
    });
  }
  return config.dbUrl;
}

export function discover(config: SupagateConfig): Promise<DiscoveredMigrations> {
  return discoverMigrations(discoveryOptions(config));
}

export function discoveryOptions(config: SupagateConfig): DiscoverOptions {
  return {
    projectDir: config.projectDir,
    migrationsDir: config.migrationsDir,
    rollbacksDir: config.rollbacksDir,
  };
}

/** Local files against the database's history, read in one read-only pass. */
export async function loadStatus(
  connection: Connection,
  discovered: DiscoveredMigrations,
  config: SupagateConfig,
): Promise<{ status: MigrationStatus; historyExists: boolean }> {
  const history = await readHistory(connection.client);
  return {
    status: computeStatus(discovered.migrations, history, discovered.warnings, config),
    historyExists: history.exists,
  };
}

export async function withReadOnlyConnection<T>(
  url: string,
  work: (connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await connect(url, { readOnly: true, statementTimeoutMs: 30_000 });
  try {
    return await work(connection);
  } finally {
    await disconnect(connection);
  }
}

/** The refusal when history and files disagree: every error problem, the first one's code. */
export function refusal(problems: Problem[]): SupagateError {
  const errors = problems.filter((problem) => problem.severity === 'error');
  const first = errors[0] as Problem;
  // Codes that only warnings carry: kept total for the type.
  const code: ErrorCode =
    first.code === 'MIGRATION_EMPTY'
      ? 'MIGRATION_FILE_INVALID'
      : first.code === 'FILE_SKIPPED' ||
          first.code === 'HISTORY_NAME_DIFFERS' ||
          first.code === 'HISTORY_DUPLICATE_CONTENT'
        ? 'INTERNAL'
        : first.code;
  return new SupagateError(
    code,
    errors.length === 1
      ? first.message
      : `${errors.length} problems:\n${errors.map((p) => `- ${p.message}`).join('\n')}`,
    { ...(first.hint ? { hint: first.hint } : {}), details: { problems: errors } },
  );
}
