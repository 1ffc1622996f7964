import { type Client, connect, disconnect, isConnectionLost } from '../db/connect.js';
import { type DatabaseTarget, redact } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import {
  type AppliedMigration,
  type MigrationFailure,
  summary,
  transactionModeOf,
} from '../migrations/execute.js';
import type { Migration } from '../migrations/model.js';

/** How long apply keeps trying to reach a server that restarted, to read what it committed. */
const RECHECK_MS = 20_000;

/**
 * A connection lost outside the migrations: before them nothing was applied; after them
 * (`applied` set: verification, hooks) they are applied and only what followed did not finish.
 */
export function lostOutsideMigrations(
  error: unknown,
  target: DatabaseTarget | undefined,
  applied?: AppliedMigration[],
): unknown {
  if (error instanceof SupagateError || !isConnectionLost(error)) return error;
  const message = redact(error instanceof Error ? error.message : String(error));
  const label = target?.label ?? 'the database';
  if (applied) {
    return new SupagateError(
      'DB_CONNECTION_LOST',
      `The connection to ${label} was lost after applying ${applied.length} migration(s), before verification finished: ${message}`,
      {
        hint: `Applied: ${applied.map((m) => m.path.replace(/^.*\//, '')).join(', ') || 'none'} (\`supagate status\` shows the history). Run \`supagate verify\` once the database accepts connections.`,
        cause: error,
      },
    );
  }
  return new SupagateError(
    'DB_CONNECTION_LOST',
    `The connection to ${label} was lost before any migration ran: ${message}`,
    {
      hint: 'Nothing was applied, and the migration lock ended with the connection. Run apply again once the database accepts connections.',
      cause: error,
    },
  );
}

export function lostConnection(failure: MigrationFailure | undefined): failure is MigrationFailure {
  return failure !== undefined && isConnectionLost({ code: failure.sqlstate, message: failure.message });
}

/**
 * After the connection was lost during the migrations: what the history holds, read on a new
 * connection, is what was applied. The migration that was running may have committed just
 * before the connection went; its history row says so.
 */
export async function afterLostConnection(
  url: string,
  target: DatabaseTarget,
  pending: Migration[],
  run: { done: AppliedMigration[]; failure: MigrationFailure },
): Promise<{ applied: AppliedMigration[]; failure: MigrationFailure; notifiedPostgrest: boolean }> {
  const recorded = await recordedVersions(
    url,
    pending.map((m) => m.version),
  );
  const applied = recorded
    ? pending
        .filter((m) => recorded.has(m.version))
        .map((m) => run.done.find((d) => d.version === m.version) ?? summary(m, transactionModeOf(m), 0, 1))
    : run.done;
  const notApplied = pending.filter((m) => !applied.some((a) => a.version === m.version));
  const failure: MigrationFailure = {
    ...run.failure,
    code: 'DB_CONNECTION_LOST',
    message: `the connection to ${target.label} was lost while applying ${run.failure.path}: ${run.failure.message}`,
    hint: lostHint(applied, notApplied, run.failure, recorded !== undefined),
  };
  const notifiedPostgrest = applied.length > 0 && (await notifyPostgrest(url));
  return { applied, failure, notifiedPostgrest };
}

function lostHint(
  applied: AppliedMigration[],
  notApplied: Migration[],
  failure: MigrationFailure,
  checked: boolean,
): string {
  const names = (list: { path: string }[]) =>
    list.map((m) => m.path.replace(/^.*\//, '')).join(', ') || 'none';
  const partial =
    failure.committedStatements > 0
      ? ` ${failure.committedStatements} statement(s) of the non-atomic ${failure.path} stayed applied; make them re-runnable or undo them before applying again.`
      : ' Each migration commits with its history row, so none is half-applied.';
  const state = checked
    ? `The history, read again on a new connection, holds: applied ${names(applied)}; not applied ${names(notApplied)}.`
    : `The server did not answer again within ${RECHECK_MS / 1000} s: applied ${names(applied)}; ${failure.path} may or may not have committed, \`supagate status\` tells once the server is back.`;
  return `${state}${partial} The migration lock ended with the connection. Run apply again once the database accepts connections: it continues with what is not applied.`;
}

/** The pending versions the history holds; undefined when the server cannot be reached again. */
async function recordedVersions(url: string, versions: string[]): Promise<Set<string> | undefined> {
  const deadline = Date.now() + RECHECK_MS;
  for (;;) {
    try {
      return await readVersions(url, versions);
    } catch (error) {
      if (!isConnectionLost(error) && !isConnectFailure(error)) return undefined;
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function readVersions(url: string, versions: string[]): Promise<Set<string>> {
  const connection = await connect(url, {
    applicationName: 'supagate apply',
    readOnly: true,
    connectTimeoutMs: 5_000,
  });
  try {
    return await historyVersions(connection.client, versions);
  } finally {
    await disconnect(connection);
  }
}

/** Which of `versions` the migration history holds (none when it does not exist yet). */
export async function historyVersions(client: Client, versions: string[]): Promise<Set<string>> {
  try {
    const { rows } = await client.query<{ version: string }>(
      `SELECT version FROM supabase_migrations.schema_migrations WHERE version = ANY($1::text[])`,
      [versions],
    );
    return new Set(rows.map((row) => row.version));
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return new Set();
    throw error;
  }
}

function isConnectFailure(error: unknown): boolean {
  return (error as { code?: string })?.code === 'DB_CONNECT_FAILED';
}

/** On a new connection: the one that applied may be gone. */
export async function notifyPostgrest(url: string): Promise<boolean> {
  try {
    const connection = await connect(url, { applicationName: 'supagate apply', connectTimeoutMs: 5_000 });
    try {
      await connection.client.query(`NOTIFY pgrst, 'reload schema'`);
      return true;
    } finally {
      await disconnect(connection);
    }
  } catch {
    return false;
  }
}
