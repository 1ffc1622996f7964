import { type Client, connect, disconnect } from '../db/connect.js';
import { ADVISORY_LOCK_KEYS } from '../db/lock.js';
import type { DatabaseTarget } from '../db/redact.js';
import { interruptedError, onInterrupt } from '../interrupt.js';
import type { Migration } from '../migrations/model.js';
import { historyVersions } from './lost-connection.js';

/** The session of apply or rollback (down files), for an interrupt to stop from a second connection. */
export interface ApplySession {
  url: string;
  target: DatabaseTarget;
  /** Backend pid of the session that holds the migration lock and runs the migrations. */
  pid: number;
  /** What it runs: apply's pending migrations, or the migrations rollback reverts. */
  pending: Migration[];
  /** Aborted on interrupt: stops the backup's pg_dump. */
  controller: AbortController;
  command?: 'apply' | 'rollback';
}

/**
 * On SIGINT/SIGTERM: stop the backup, cancel the statement the session runs (pg_cancel_backend
 * from a second connection), end the session so its transaction rolls back and the lock is
 * free at once, then say what the history holds. Returns the function that unregisters it.
 */
export function stopApplyOnInterrupt(session: ApplySession): () => void {
  const command = session.command ?? 'apply';
  return onInterrupt(`stopping ${command}`, async (signal) => {
    session.controller.abort(interruptedError(signal));
    const admin = await connect(session.url, {
      applicationName: 'supagate interrupt',
      connectTimeoutMs: 5_000,
    });
    try {
      const lines = [await cancelStatement(admin.client, session.pid, command)];
      lines.push(await endSession(admin.client, session.pid, session.target));
      lines.push(...(await historyLines(admin.client, session.pending, command)));
      return lines;
    } finally {
      await disconnect(admin);
    }
  });
}

async function cancelStatement(client: Client, pid: number, command: string): Promise<string> {
  const { rows } = await client.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [
    pid,
  ]);
  if (rows.length === 0) return `${command} was running no statement on the server`;
  await client.query('SELECT pg_cancel_backend($1)', [pid]);
  // The cancelled statement's error reaches apply, which rolls back; give it a moment.
  await waitFor(client, `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, pid, 2_000);
  return `cancelled the statement ${command} was running on the server (backend ${pid}); its transaction was rolled back`;
}

/** Ends apply's session: an open transaction rolls back, and the advisory lock goes with the session. */
async function endSession(client: Client, pid: number, target: DatabaseTarget): Promise<string> {
  const { rows } = await client.query(
    'SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND xact_start IS NOT NULL',
    [pid],
  );
  await client.query('SELECT pg_terminate_backend($1)', [pid]);
  const gone = await waitFor(
    client,
    `SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND classid = $2::bigint::oid AND objid = $3::bigint::oid`,
    pid,
    5_000,
    [...ADVISORY_LOCK_KEYS],
  );
  if (!gone) throw new Error(`the migration lock on ${target.label} is still held by backend ${pid}`);
  const rolledBack = rows.length > 0 ? '; its open transaction was rolled back' : '';
  return `released the migration lock on ${target.label}${rolledBack}`;
}

async function historyLines(
  client: Client,
  pending: Migration[],
  command: 'apply' | 'rollback',
): Promise<string[]> {
  const recorded = await historyVersions(
    client,
    pending.map((m) => m.version),
  );
  const names = (list: Migration[]) => list.map((m) => m.path.replace(/^.*\//, '')).join(', ') || 'none';
  if (command === 'rollback') {
    return [
      `rolled back before the interrupt (gone from the history): ${names(pending.filter((m) => !recorded.has(m.version)))}`,
      `still applied: ${names(pending.filter((m) => recorded.has(m.version)))}; run rollback again to continue`,
    ];
  }
  return [
    `applied before the interrupt (in the history): ${names(pending.filter((m) => recorded.has(m.version)))}`,
    `not applied: ${names(pending.filter((m) => !recorded.has(m.version)))}; run apply again to continue`,
  ];
}

/** Polls until the query returns no row; false when it still does after `timeoutMs`. */
async function waitFor(
  client: Client,
  sql: string,
  pid: number,
  timeoutMs: number,
  extra: unknown[] = [],
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query(sql, [pid, ...extra]);
    if (rows.length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The backend pid of a session, for an interrupt to cancel and end it from another. */
export async function backendPid(client: Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]?.pid ?? 0;
}
