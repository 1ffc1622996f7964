import { SupagateError } from '../errors.js';
import type { Client } from './connect.js';

/**
 * The advisory lock every supagate apply/rollback takes: two 32-bit keys, 'supa' and 'gate'
 * in ASCII. Advisory locks are per database, so applies to different databases don't wait.
 */
export const ADVISORY_LOCK_KEYS = [0x73757061, 0x67617465] as const;

const POLL_MS = 250;

export interface LockHandle {
  waitedMs: number;
  release(): Promise<void>;
}

/** Waits up to `waitMs` for the session advisory lock, then fails naming who holds it. */
export async function acquireMigrationLock(client: Client, waitMs: number): Promise<LockHandle> {
  const started = Date.now();
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1, $2) AS locked',
      [...ADVISORY_LOCK_KEYS],
    );
    if (rows[0]?.locked) {
      return {
        waitedMs: Date.now() - started,
        release: async () => {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [...ADVISORY_LOCK_KEYS]).catch(() => {});
        },
      };
    }
    if (Date.now() - started >= waitMs) {
      const holder = await describeHolder(client);
      throw new SupagateError(
        'LOCK_TIMEOUT',
        `Another migration run holds the supagate lock on this database${holder}; waited ${Math.round(waitMs / 1000)}s`,
        {
          hint: 'Wait for the other run to finish, or raise --lock-wait. Two applies never run at the same time.',
          details: { waitedMs: Date.now() - started },
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Whether this session still holds the lock: throws when the session itself is gone. */
export async function holdsMigrationLock(client: Client): Promise<boolean> {
  const { rows } = await client.query(
    `SELECT 1 FROM pg_locks
      WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted
        AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 2`,
    [...ADVISORY_LOCK_KEYS],
  );
  return rows.length > 0;
}

async function describeHolder(client: Client): Promise<string> {
  const { rows } = await client.query<{ pid: number; application_name: string; since: string | null }>(
    `SELECT a.pid, a.application_name, to_char(a.backend_start, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
        AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [...ADVISORY_LOCK_KEYS],
  );
  const row = rows[0];
  if (!row) return '';
  return ` (pid ${row.pid}, application "${row.application_name || 'unknown'}", connected since ${row.since ?? '?'})`;
}
