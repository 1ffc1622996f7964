import { Readable } from 'node:stream';
import { type Connection, connect, disconnect } from '../db/connect.js';
import { findPgTool } from '../db/pgtools.js';
import { SupagateError } from '../errors.js';
import { VERSION } from '../version.js';
import { type BackupScope, createBackup, type DumpSelection, resolveScope } from './dump.js';
import { type BackupKey, parseBackupKey } from './encryption.js';
import { readManagedState } from './managed-state.js';
import {
  type BackupManifest,
  countRows,
  dumpKey,
  MANIFEST_SUFFIX,
  manifestKey,
  newBackupId,
  parseManifest,
  publicationMemberships,
  rlsSnapshot,
  tableKeys,
  targetFingerprint,
} from './manifest.js';
import { schemaFingerprintInTransaction } from './schema-fingerprint.js';
import { assertKeyForStore, type BackupStore } from './stores.js';

export interface TakeBackupOptions {
  dbUrl: string;
  store: BackupStore;
  /** A secret (hex, base64 or passphrase; see encryption.ts) or a parsed key. Unset: not encrypted. */
  encryptionKey?: string | BackupKey;
  /** Default `data`. See dump.ts. */
  scope?: BackupScope;
  pgDumpPath?: string;
  pgRestorePath?: string;
  /**
   * Newest applied migration version before the apply (apply knows it). Undefined: read from
   * supabase_migrations.schema_migrations; null: none.
   */
  historyVersion?: string | null;
  /** Cancels the backup (pg_dump is stopped); it then fails with BACKUP_FAILED and stores nothing. */
  signal?: AbortSignal;
  /** pg_dump's --lock-wait-timeout. */
  lockWaitTimeoutMs?: number;
  /** Clock for the backup id (tests). */
  now?: () => Date;
}

/**
 * Backup first: dump and verify in one pass → manifest → store. In one read-only REPEATABLE
 * READ transaction the scope is read from the catalog, rows are counted and RLS recorded, and
 * a snapshot is exported for pg_dump to dump in, so the manifest describes exactly what the
 * dump holds. The dump streams into the store and, at the same time, into pg_restore, which
 * lists it and reads it to its end (stream-verify.ts); the store keeps it only once that
 * passed, and its stored size must be what was written. The manifest is stored last, so a
 * backup is listed only once it verified. Any failure removes
 * what was stored and throws (BACKUP_FAILED, BACKUP_UNVERIFIED, …): apply must not go on.
 */
export async function takeBackup(options: TakeBackupOptions): Promise<BackupManifest> {
  const started = performance.now();
  const key = options.encryptionKey === undefined ? undefined : parseBackupKey(options.encryptionKey);
  assertKeyForStore(options.store, key !== undefined);
  const id = newBackupId(options.now?.() ?? new Date());
  const storeKey = dumpKey(id, key !== undefined);

  let connection: Connection | undefined;
  let dumped = false;
  try {
    connection = await connect(options.dbUrl, { readOnly: true, applicationName: 'supagate backup' });
    const client = connection.client;
    const snapshot = await beginSnapshot(connection);
    const { rows: versionRows } = await client.query<{ version: string; num: string }>(
      `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num`,
    );
    const serverVersionNum = Number(versionRows[0]?.num ?? 0);
    const serverVersion = (versionRows[0]?.version ?? '').split(' ')[0] ?? '';
    // Both tools first: a missing pg_restore must not be found out after a long dump.
    const major = Math.floor(serverVersionNum / 10_000);
    const pgDump = await findPgTool('pg_dump', {
      minMajor: major,
      ...(options.pgDumpPath ? { explicitPath: options.pgDumpPath } : {}),
    });
    // pg_restore reads archives of its own major and older.
    const pgRestore = await findPgTool('pg_restore', {
      minMajor: Math.max(major, pgDump.major),
      ...(options.pgRestorePath ? { explicitPath: options.pgRestorePath } : {}),
    });

    const selection = await resolveScope(client, options.scope ?? 'data');
    // Read in the snapshot while pg_dump dumps it: counting rows reads every table too.
    const reading = readFacts(connection, selection, options.historyVersion);
    reading.catch(() => {});
    const created = await createBackup({
      dbUrl: options.dbUrl,
      selection,
      pgDump,
      store: options.store,
      key: storeKey,
      ...(key ? { encryptionKey: key } : {}),
      ...(snapshot ? { snapshot } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.lockWaitTimeoutMs !== undefined ? { lockWaitTimeoutMs: options.lockWaitTimeoutMs } : {}),
      verify: {
        pgRestore,
        expectedTables: selection.expectedTables,
        schemaOnly: selection.description.schemaOnly,
      },
    });
    dumped = true;
    const facts = await reading;
    await client.query('COMMIT');
    await disconnect(connection);
    connection = undefined;
    throwIfCancelled(options.signal);

    const manifest: BackupManifest = {
      formatVersion: 2,
      id,
      createdAt: new Date().toISOString(),
      target: { fingerprint: targetFingerprint(options.dbUrl) },
      serverVersion,
      serverVersionNum,
      ...facts,
      verifiedTables: created.verifiedTables ?? [],
      sha256: created.sha256,
      sizeBytes: created.sizeBytes,
      encryption: key ? 'aes-256-gcm' : 'none',
      scope: selection.description,
      consistentSnapshot: snapshot !== undefined,
      location: { store: options.store.kind, key: storeKey, location: created.location },
      tool: { supagate: VERSION, pgDump: pgDump.version },
      durationMs: 0,
    };
    manifest.durationMs = Math.round(performance.now() - started);
    throwIfCancelled(options.signal);
    await options.store.put(
      manifestKey(id),
      Readable.from([Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)]),
    );
    return manifest;
  } catch (error) {
    if (dumped) {
      await options.store.remove(manifestKey(id)).catch(() => {});
      await options.store.remove(storeKey).catch(() => {});
    }
    throw error;
  } finally {
    if (connection) {
      await connection.client.query('ROLLBACK').catch(() => {});
      await disconnect(connection);
    }
  }
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw new SupagateError('BACKUP_FAILED', 'The backup was cancelled', {
    hint: 'Nothing was stored and nothing was changed. Run again when it can finish.',
  });
}

/**
 * Opens the REPEATABLE READ READ ONLY transaction everything is read in and exports its
 * snapshot for pg_dump. Without a snapshot (a transaction pooler, an old standby) the backup
 * still runs, pg_dump then reads a moment later than the counts.
 */
async function beginSnapshot(connection: Connection): Promise<string | undefined> {
  const client = connection.client;
  const begin = async () => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // Like pg_dump's own session: no timeout may cut the counts or the open snapshot short.
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SET LOCAL idle_in_transaction_session_timeout = 0');
  };
  await begin();
  try {
    // Not in a savepoint: PostgreSQL exports no snapshot from a subtransaction.
    const { rows } = await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
    return rows[0]?.snapshot;
  } catch {
    await client.query('ROLLBACK');
    await begin();
    return undefined;
  }
}

type Facts = Pick<
  BackupManifest,
  'historyVersion' | 'rowCounts' | 'rls' | 'publications' | 'managed' | 'tableKeys' | 'schemaFingerprint'
>;

/** What the manifest records of the database besides the dump, read in the dump's snapshot. */
async function readFacts(
  connection: Connection,
  selection: DumpSelection,
  givenHistoryVersion: string | null | undefined,
): Promise<Facts> {
  const client = connection.client;
  const rlsOids = selection.rlsTables.map((t) => t.oid);
  const rowCounts = await countRows(client, selection.rowTables);
  const rls = await rlsSnapshot(client, rlsOids);
  const publications = await publicationMemberships(client, rlsOids);
  const managed = await readManagedState(client);
  const tableKeysRead = await tableKeys(client, selection.rowTables);
  const schemaFingerprint =
    selection.description.kind === 'named' ? undefined : await schemaFingerprintInTransaction(client);
  const historyVersion =
    givenHistoryVersion === undefined ? await readHistoryVersion(connection) : givenHistoryVersion;
  return {
    historyVersion,
    rowCounts,
    rls,
    publications,
    managed,
    tableKeys: tableKeysRead,
    ...(schemaFingerprint ? { schemaFingerprint } : {}),
  };
}

async function readHistoryVersion(connection: Connection): Promise<string | null> {
  const { rows: exists } = await connection.client.query<{ ok: boolean }>(
    `SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL AS ok`,
  );
  if (!exists[0]?.ok) return null;
  const { rows: newest } = await connection.client.query<{ version: string }>(
    `SELECT version FROM supabase_migrations.schema_migrations
      ORDER BY CASE WHEN version ~ '^[0-9]+$' THEN version::numeric END DESC NULLS LAST, version DESC
      LIMIT 1`,
  );
  return newest[0]?.version ?? null;
}

export interface ListBackupsOptions {
  /** Called for a manifest that cannot be read; by default it is skipped silently. */
  onInvalid?(key: string, error: unknown): void;
}

/** The backups in a store, newest first. Only verified backups have a manifest, so only they are listed. */
export async function listBackups(
  store: BackupStore,
  options: ListBackupsOptions = {},
): Promise<BackupManifest[]> {
  const keys = (await store.list()).filter((key) => key.endsWith(MANIFEST_SUFFIX));
  const manifests: BackupManifest[] = [];
  for (const key of keys) {
    try {
      manifests.push(parseManifest(await readSmall(await store.get(key)), key));
    } catch (error) {
      options.onInvalid?.(key, error);
    }
  }
  return manifests.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Reads one backup's manifest. */
export async function readManifest(store: BackupStore, id: string): Promise<BackupManifest> {
  const key = manifestKey(id);
  return parseManifest(await readSmall(await store.get(key)), key);
}

const MANIFEST_LIMIT = 16 * 1024 * 1024;

async function readSmall(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MANIFEST_LIMIT) {
      stream.destroy();
      throw new Error(`manifest larger than ${MANIFEST_LIMIT} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
