import type { BackupManifest } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { SupagateError } from '../errors.js';
import { HISTORY_SCHEMA } from '../migrations/history.js';
import { describeList } from './errors.js';
import { restoredRowCounts } from './verify.js';

/** Rows a table holds now that the backup does not: what a restore would discard. */
export interface TableWrites {
  table: string;
  /** Rows in the backup; null for a table created after it. */
  backupRows: number | null;
  rows: number;
  newRows: number;
  /**
   * How new rows were told: by the key (rows above the backup's highest key), by the count
   * (at least this many), or the whole table (created after the backup).
   */
  by: 'key' | 'count' | 'new table';
}

/**
 * Compares each table the restore replaces (`schemas` whole, `tables` on their own) with the
 * backup. Only tables with rows the backup does not have are returned.
 */
export async function writesSinceBackup(
  client: Client,
  manifest: BackupManifest,
  schemas: string[],
  tables: string[],
): Promise<TableWrites[]> {
  const { rows: current } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND (n.nspname = ANY($1::text[]) OR format('%I.%I', n.nspname, c.relname) = ANY($2::text[]))
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
      ORDER BY 1`,
    [schemas, tables],
  );
  const backupCounts = restoredRowCounts(manifest);
  const writes: TableWrites[] = [];
  for (const { name } of current) {
    // The history is what a rollback takes back; the audit trail is kept.
    if (name.startsWith(`${HISTORY_SCHEMA}.`)) continue;
    const rows = await countOf(client, name);
    const backupRows = backupCounts[name];
    if (backupRows === undefined) {
      if (rows > 0) writes.push({ table: name, backupRows: null, rows, newRows: rows, by: 'new table' });
      continue;
    }
    const key = manifest.tableKeys?.[name];
    const newRows = key ? await rowsAbove(client, name, key.column, key.max) : Math.max(0, rows - backupRows);
    if (newRows > 0) writes.push({ table: name, backupRows, rows, newRows, by: key ? 'key' : 'count' });
  }
  return writes;
}

async function countOf(client: Client, table: string): Promise<number> {
  // The name comes from format('%I.%I'): already quoted.
  const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${table}`);
  return Number(rows[0]?.n ?? 0);
}

async function rowsAbove(client: Client, table: string, column: string, max: string | null): Promise<number> {
  const quoted = `"${column.replace(/"/g, '""')}"`;
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ONLY ${table} WHERE $1::numeric IS NULL OR ${quoted} > $1::numeric`,
    [max],
  );
  return Number(rows[0]?.n ?? 0);
}

export function describeWrites(writes: TableWrites[]): string {
  return describeList(
    writes.map((w) =>
      w.by === 'new table'
        ? `${w.table}: ${w.newRows} rows (table created after the backup)`
        : `${w.table}: ${w.by === 'count' ? 'at least ' : ''}${w.newRows} rows written after the backup`,
    ),
    10,
  );
}

export function writesWouldBeLost(
  manifest: BackupManifest,
  writes: TableWrites[],
  options: { safetyBackupOff?: boolean } = {},
): SupagateError {
  const rows = writes.reduce((sum, w) => sum + w.newRows, 0);
  return new SupagateError(
    'RESTORE_WOULD_LOSE_WRITES',
    `Restoring backup ${manifest.id} would discard ${rows} row${rows === 1 ? '' : 's'} written after it: ${describeWrites(writes)}`,
    {
      hint: options.safetyBackupOff
        ? 'The safety backup is off, so nothing would keep those rows: turn it on (--safety-backup on; Action input backup: on) and say to discard them (--discard-writes-since-backup; Action input discard-writes-since-backup: true). Nothing was changed.'
        : 'To restore anyway, say so: --discard-writes-since-backup (config discardWritesSinceBackup: true; Action input discard-writes-since-backup: true). The safety backup taken first keeps those rows, and its id is printed. Nothing was changed.',
      details: { backupId: manifest.id, writes },
    },
  );
}
