import { createHash } from 'node:crypto';
import type { SupagateConfig } from '../config.js';
import { systemIdentifier } from '../db/cluster-identity.js';
import { type Client, type Connection, connect, disconnect } from '../db/connect.js';
import { acquireMigrationLock } from '../db/lock.js';
import { SupagateError } from '../errors.js';
import type { DiscoveredMigrations } from '../migrations/files.js';
import { HISTORY_SCHEMA, HISTORY_TABLE, historyColumns } from '../migrations/history.js';
import type { Problem } from '../migrations/pending.js';
import {
  actionSql,
  actionStatement,
  type LeftAlone,
  proposeRepair,
  type RepairAction,
} from '../migrations/repair-plan.js';
import { discover, loadStatus, requireDbUrl, withReadOnlyConnection } from './load.js';

/**
 * repair: the exact, minimal change to the Supabase CLI's history table that makes it agree
 * with the local files, shown first; applied only with `--confirm <fingerprint>`, where the
 * fingerprint names this database and its history as they were shown (so a repair proposed for
 * staging cannot land on production, nor one proposed before another apply). Applied in one
 * transaction, under the migration lock, after the history rows are copied to
 * supabase_migrations.supagate_history_backups. The schema is never touched.
 */
export const HISTORY_BACKUPS_TABLE = `${HISTORY_SCHEMA}.supagate_history_backups`;

export type RepairStatus =
  /** Files and history agree: status reports no problem. */
  | 'clean'
  /** Problems remain that history cannot repair (leftAlone says why); nothing proposed. */
  | 'nothing-to-repair'
  /** Changes proposed; nothing written. */
  | 'proposed'
  | 'repaired';

export interface RepairResult {
  command: 'repair';
  status: RepairStatus;
  target: string;
  /** Names this database and its history as shown: `--confirm` must repeat it. */
  fingerprint: string;
  actions: RepairAction[];
  /** Each action as SQL, in order, for the reviewer. */
  sql: string[];
  leftAlone: LeftAlone[];
  /** Set when repaired: the row of supagate_history_backups holding history as it was. */
  backupId?: string;
  /** What status reports once repaired (or now, when nothing was applied). */
  problems: Problem[];
}

export interface RepairOptions {
  /** The fingerprint the proposal showed; absent: only propose. */
  confirm?: string;
}

export async function repair(config: SupagateConfig, options: RepairOptions = {}): Promise<RepairResult> {
  const url = requireDbUrl(config);
  const discovered = await discover(config);
  const proposal = await withReadOnlyConnection(url, (connection) => propose(connection, discovered, config));
  if (proposal.actions.length === 0)
    return { ...proposal, status: proposal.problems.length === 0 ? 'clean' : 'nothing-to-repair' };
  if (options.confirm === undefined) return { ...proposal, status: 'proposed' };
  if (options.confirm !== proposal.fingerprint) throw fingerprintMismatch(options.confirm, proposal);

  const connection = await connect(url, { applicationName: 'supagate repair', statementTimeoutMs: 30_000 });
  try {
    const lock = await acquireMigrationLock(connection.client, config.lockWaitMs);
    try {
      const backupId = await applyInTransaction(connection, discovered, config, proposal);
      const after = await loadStatus(connection, discovered, config);
      return { ...proposal, status: 'repaired', backupId, problems: after.status.problems };
    } finally {
      await lock.release();
    }
  } finally {
    await disconnect(connection);
  }
}

type Proposal = Omit<RepairResult, 'status'>;

/**
 * `system` is the cluster's system identifier, read before any transaction: a role that may
 * not read it gets an error, which would abort the repair's transaction.
 */
async function propose(
  connection: Connection,
  discovered: DiscoveredMigrations,
  config: SupagateConfig,
  system?: string | null,
): Promise<Proposal> {
  const { status } = await loadStatus(connection, discovered, config);
  const { actions, leftAlone } = proposeRepair(status, config);
  return {
    command: 'repair',
    target: connection.target.label,
    fingerprint: await fingerprintOf(
      connection,
      actions,
      system !== undefined ? system : ((await systemIdentifier(connection.client)) ?? null),
    ),
    actions,
    sql: actions.map((action) => actionSql(action, HISTORY_TABLE)),
    leftAlone,
    problems: status.problems,
  };
}

/**
 * The history is read again inside the transaction, under a lock that keeps the Supabase CLI
 * and supagate from writing it meanwhile: a proposal that no longer holds is refused, and
 * nothing is written.
 */
async function applyInTransaction(
  connection: Connection,
  discovered: DiscoveredMigrations,
  config: SupagateConfig,
  shown: Proposal,
): Promise<string> {
  const { client } = connection;
  const system = (await systemIdentifier(client)) ?? null;
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = '4s'`);
    await client.query(`LOCK TABLE ${HISTORY_TABLE} IN SHARE ROW EXCLUSIVE MODE`);
    const now = await propose(connection, discovered, config, system);
    if (now.fingerprint !== shown.fingerprint) throw fingerprintMismatch(shown.fingerprint, now);
    const backupId = await backUpHistory(client, shown);
    const hasName = (await historyColumns(client)).has('name');
    for (const action of shown.actions) {
      const statement = actionStatement(action, HISTORY_TABLE, hasName);
      const done = await client.query(statement.text, statement.values);
      if (done.rowCount !== 1)
        throw new SupagateError('INTERNAL', `Repair changed ${done.rowCount} history rows for one action`, {
          details: { action },
        });
    }
    await client.query('COMMIT');
    return backupId;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function backUpHistory(client: Client, proposal: Proposal): Promise<string> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${HISTORY_BACKUPS_TABLE} (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       taken_at timestamptz NOT NULL DEFAULT now(),
       reason text NOT NULL,
       fingerprint text NOT NULL,
       taken_by text NOT NULL DEFAULT current_user,
       changes jsonb NOT NULL,
       rows jsonb NOT NULL
     )`,
  );
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO ${HISTORY_BACKUPS_TABLE} (reason, fingerprint, changes, rows)
     SELECT 'supagate repair', $1, $2::jsonb, coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.version), '[]'::jsonb)
       FROM ${HISTORY_TABLE} m
     RETURNING id::text AS id`,
    [proposal.fingerprint, JSON.stringify(proposal.actions)],
  );
  return (rows[0] as { id: string }).id;
}

/**
 * This database (its cluster's system identifier where the role may read it, its name and
 * oid, and the host and port the URL names), its whole history table as stored, and the
 * actions proposed: 12 hex digits of their sha256.
 */
async function fingerprintOf(
  connection: Connection,
  actions: RepairAction[],
  system: string | null,
): Promise<string> {
  const { client } = connection;
  const { rows } = await client.query<{ database: string; oid: string; exists: boolean }>(
    `SELECT current_database() AS database,
            (SELECT oid FROM pg_database WHERE datname = current_database())::text AS oid,
            to_regclass($1) IS NOT NULL AS exists`,
    [HISTORY_TABLE],
  );
  const { exists, ...database } = rows[0] as { database: string; oid: string; exists: boolean };
  const history = exists
    ? (
        await client.query<{ digest: string | null }>(
          `SELECT md5(string_agg(to_jsonb(m)::text, E'\\n' ORDER BY m.version)) AS digest FROM ${HISTORY_TABLE} m`,
        )
      ).rows[0]?.digest
    : null;
  const identity = {
    system,
    target: connection.target.label,
    ...database,
    history: history ?? null,
    actions,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 12);
}

function fingerprintMismatch(given: string, now: Proposal): SupagateError {
  return new SupagateError(
    'REPAIR_FINGERPRINT_MISMATCH',
    `--confirm ${given} does not match this database and its history (fingerprint ${now.fingerprint} now): it is another database, or its history changed since the repair was proposed. Nothing was changed.`,
    {
      hint: 'Run `supagate repair` against the database you mean to repair, read the proposal, and confirm with the fingerprint it shows.',
      details: { expected: now.fingerprint },
    },
  );
}
