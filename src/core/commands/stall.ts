import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { BackupStore } from '../backup/stores.js';
import { type Client, connect, disconnect } from '../db/connect.js';
import { SupagateError } from '../errors.js';

/** The sessions a backup reads in: supagate's (counts, catalog, snapshot) and pg_dump's (PGAPPNAME, pgtools.ts). */
const BACKUP_SESSION = 'supagate backup';
const PG_DUMP_SESSION = 'supagate';

export interface StallWatch {
  /** The store to write the backup to: what reaches it counts as progress. */
  store: BackupStore;
  stop(): void;
}

/**
 * A backup that makes no progress for `timeoutMs` (pg_dump writes nothing; a count or pg_dump
 * waits on a lock) is stopped: the abort stops pg_dump, and the backup's queries are cancelled
 * on the server. The abort's reason says what it waited for; apply then fails with nothing applied.
 */
export function watchBackupForStall(options: {
  url: string;
  store: BackupStore;
  timeoutMs: number;
  controller: AbortController;
}): StallWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stalled = async () => {
    if (stopped) return;
    const waits = await describeWaits(options.url).catch(() => '');
    options.controller.abort(stallError(options.timeoutMs, waits));
    await cancelBackupQueries(options.url).catch(() => {});
  };
  const arm = () => {
    if (stopped || options.timeoutMs <= 0) return;
    clearTimeout(timer);
    timer = setTimeout(() => void stalled(), options.timeoutMs);
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  arm();
  return { store: withProgress(options.store, arm, stop), stop };
}

function stallError(timeoutMs: number, waits: string): SupagateError {
  return new SupagateError(
    'BACKUP_FAILED',
    `The backup stalled: no progress for ${formatDuration(timeoutMs)}${waits}. It was stopped; nothing was stored and nothing was applied`,
    {
      hint: waits
        ? 'Let the session holding the lock finish (or end it), then apply again.'
        : 'pg_dump wrote nothing: check the database and the network, then apply again. A very slow database may need a longer --stall-timeout.',
      details: { stallTimeoutMs: timeoutMs },
    },
  );
}

function formatDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10} s`;
}

/** The store, with every chunk written to it reported. */
function withProgress(store: BackupStore, progress: () => void, done: () => void): BackupStore {
  return {
    kind: store.kind,
    ...(store.requiresEncryption !== undefined ? { requiresEncryption: store.requiresEncryption } : {}),
    put: (key, stream) => {
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, callback: TransformCallback) {
          progress();
          callback(null, chunk);
        },
      });
      // pipeline, not pipe: a failing dump must fail what the store reads.
      const stored = store.put(key, pipeline(stream, tap, () => {}) as Readable);
      // Once the dump is stored, reading it back to verify it is not watched.
      return stored.finally(done);
    },
    get: (key) => store.get(key),
    list: () => store.list(),
    remove: (key) => store.remove(key),
  };
}

/** ` (pg_dump waits for a lock, blocked by backend 123, application "psql")`, or nothing. */
async function describeWaits(url: string): Promise<string> {
  return withSession(url, async (client) => {
    const { rows } = await client.query<{ waiter: string; pid: number; application: string }>(
      `SELECT w.application_name AS waiter, b.pid, coalesce(nullif(b.application_name, ''), 'unknown') AS application
         FROM pg_stat_activity w
         JOIN pg_stat_activity b ON b.pid = ANY (pg_blocking_pids(w.pid))
        WHERE w.datname = current_database() AND w.application_name = ANY ($1::text[])
          AND b.application_name <> ALL ($1::text[])
        LIMIT 1`,
      [[BACKUP_SESSION, PG_DUMP_SESSION]],
    );
    const row = rows[0];
    return row
      ? ` (${row.waiter === PG_DUMP_SESSION ? 'pg_dump' : 'a count'} waits for a lock, blocked by backend ${row.pid}, application "${row.application}")`
      : '';
  });
}

async function cancelBackupQueries(url: string): Promise<void> {
  await withSession(url, (client) =>
    client.query(
      `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = $1 AND state = 'active'`,
      [BACKUP_SESSION],
    ),
  );
}

async function withSession<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connect(url, { applicationName: 'supagate watchdog', connectTimeoutMs: 5_000 });
  try {
    return await work(connection.client);
  } finally {
    await disconnect(connection);
  }
}
