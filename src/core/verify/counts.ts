import { type Client, type Connection, connect, disconnect, pgErrorFields } from '../db/connect.js';
import { SupagateError } from '../errors.js';
import { MANAGED_SCHEMAS, ROW_TRACKED_MANAGED_TABLES } from '../platform.js';
import { normalizeTable, quotedTableSql } from './identity.js';

/*
 * Row counts: what proves an apply did not lose rows.
 *
 * Which tables: every ordinary and partitioned table of the user schemas (every schema except
 * MANAGED_SCHEMAS and pg_*, or the `schemas` given), except tables that belong to an extension
 * (as introspect() does), plus the managed tables migrations write rows to (storage.buckets and
 * storage.objects). Foreign tables are not counted (that would query the remote server).
 *
 * Partitions are not counted on their own: a partitioned table's count is the rows of its
 * whole partition tree (`count(*)` on the parent), and its partitions (at any level) are not
 * listed. So moving rows between partitions or re-partitioning is no change, and a dropped or
 * detached partition shows as rows its parent lost. An ordinary table is counted with ONLY:
 * children of old-style inheritance are counted as tables of their own, never twice.
 *
 * Consistency: every count is taken in ONE snapshot. The first connection opens a REPEATABLE
 * READ READ ONLY transaction, lists the tables and exports its snapshot (pg_export_snapshot());
 * the other connections (up to `concurrency` in all, never more than there are tables) open
 * theirs with SET TRANSACTION SNAPSHOT, so all of them see the database as of the same instant
 * whatever is committed meanwhile. Sessions are read-only (default_transaction_read_only).
 * Tables are handed out largest first, so the big ones do not all end up last.
 *
 * `estimate` reads pg_class.reltuples (for a partitioned table, the sum over its leaf
 * partitions) and counts exactly the tables never vacuumed or analyzed (reltuples = -1). An
 * estimate only moves when VACUUM or ANALYZE runs, so estimates cannot prove that rows were
 * kept: use them for sizes, or with a percent tolerance.
 *
 * Tables the session may not SELECT are not counted: they are listed in `skipped`.
 */

export type CountMode = 'exact' | 'estimate';

export interface CountOptions {
  /** User schemas to count; default: every schema except MANAGED_SCHEMAS (and pg_*). */
  schemas?: string[];
  /** Managed tables whose rows migrations may create: default storage.buckets and storage.objects. */
  managedTables?: string[];
  mode?: CountMode;
  /** Connections counting in parallel, default 4. */
  concurrency?: number;
  /** Called after each table: how many are done out of how many. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called once the snapshot is exported and the tables listed, before anything is counted.
   * Whatever is committed from here on is not in the counts (tests change data here).
   */
  onSnapshot?: (snapshot: string) => void | Promise<void>;
  /** `lock_timeout` of the counting sessions (default 60s): a count never queues forever behind DDL. */
  lockTimeoutMs?: number;
  /** `statement_timeout` of the counting sessions; default: the server's. */
  statementTimeoutMs?: number;
}

export interface RowCounts {
  /** Table identity (`public."Order"`) → rows. */
  counts: Record<string, number>;
  mode: CountMode;
  /** The tables whose number is pg_class's estimate (mode `estimate` only). */
  estimated: string[];
  /** Tables that exist but were not counted. */
  skipped: { table: string; reason: string }[];
  /** The exported snapshot every count was taken in. */
  snapshot: string;
  /** How many connections counted. */
  connections: number;
}

/** Row counts of every table in the managed set: table identity → rows. */
export async function countRows(url: string, options: CountOptions = {}): Promise<Record<string, number>> {
  return (await countTables(url, options)).counts;
}

interface TableRow {
  id: string;
  oid: number;
  kind: 'r' | 'p';
  selectable: boolean;
  pages: number;
  /** reltuples, summed over the leaf partitions of a partitioned table; -1 when any is unknown. */
  estimate: number;
}

export const DEFAULT_COUNT_CONCURRENCY = 4;

/** countRows() with what was estimated, skipped, and the snapshot it ran in. */
export async function countTables(url: string, options: CountOptions = {}): Promise<RowCounts> {
  const mode = options.mode ?? 'exact';
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_COUNT_CONCURRENCY));
  const connections: Connection[] = [];
  const open = async () => {
    const connection = await connect(url, {
      readOnly: true,
      applicationName: 'supagate verify (counts)',
      ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
    });
    connections.push(connection);
    return connection.client;
  };
  try {
    const first = await open();
    await first.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await first.query(`SET LOCAL lock_timeout = ${lockTimeout(options)}`);
    // The first query takes the transaction's snapshot: the table list is of the same instant.
    const tables = await listTables(first, options);
    const { rows } = await first.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
    const snapshot = rows[0]?.snapshot as string;

    const counts: Record<string, number> = {};
    const estimated: string[] = [];
    const skipped: RowCounts['skipped'] = [];
    const work: TableRow[] = [];
    for (const table of tables) {
      if (!table.selectable) skipped.push({ table: table.id, reason: 'no SELECT privilege' });
      else if (mode === 'estimate' && table.estimate >= 0) {
        counts[table.id] = Math.round(table.estimate);
        estimated.push(table.id);
      } else work.push(table);
    }
    work.sort((a, b) => b.pages - a.pages || compareText(a.id, b.id));
    const total = work.length + estimated.length;
    let done = estimated.length;
    if (estimated.length > 0) options.onProgress?.(done, total);

    await options.onSnapshot?.(snapshot);

    const clients = [first];
    const extra = Math.min(concurrency, work.length) - 1;
    for (let i = 0; i < extra; i++) {
      const client = await open();
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`SET TRANSACTION SNAPSHOT ${client.escapeLiteral(snapshot)}`);
      await client.query(`SET LOCAL lock_timeout = ${lockTimeout(options)}`);
      clients.push(client);
    }

    let next = 0;
    const worker = async (client: Client) => {
      while (next < work.length) {
        const table = work[next++] as TableRow;
        counts[table.id] = await countOne(client, table);
        done++;
        options.onProgress?.(done, total);
      }
    };
    await Promise.all(clients.map(worker));
    for (const client of clients) await client.query('COMMIT');
    return {
      counts: sortedRecord(counts),
      mode,
      estimated: estimated.sort(compareText),
      skipped,
      snapshot,
      connections: clients.length,
    };
  } finally {
    await Promise.all(connections.map((connection) => disconnect(connection)));
  }
}

function lockTimeout(options: CountOptions): string {
  return `'${Math.max(0, Math.round(options.lockTimeoutMs ?? 60_000))}ms'`;
}

async function countOne(client: Client, table: TableRow): Promise<number> {
  // ONLY for an ordinary table (inheritance children are counted on their own); a partitioned
  // table counts its whole partition tree (ONLY would give 0).
  const only = table.kind === 'r' ? 'ONLY ' : '';
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${only}${quotedTableSql(table.id)}`,
    );
    return Number(rows[0]?.n ?? 0);
  } catch (error) {
    const fields = pgErrorFields(error);
    throw new SupagateError(
      'VERIFY_COUNT_FAILED',
      `Could not count the rows of ${table.id}: ${fields.message}`,
      {
        hint:
          fields.code === '55P03'
            ? 'Another session holds a lock on the table (DDL, VACUUM FULL…): retry when it is done.'
            : 'Check that the counting role can read the table.',
        details: { table: table.id, ...(fields.code ? { sqlstate: fields.code } : {}) },
        cause: error,
      },
    );
  }
}

async function listTables(client: Client, options: CountOptions): Promise<TableRow[]> {
  const managed = (options.managedTables ?? [...ROW_TRACKED_MANAGED_TABLES]).map(normalizeTable);
  const schemaFilter = options.schemas
    ? 'n.nspname = ANY ($1::text[])'
    : `n.nspname <> ALL ($1::text[]) AND n.nspname !~ '^pg_'`;
  const { rows } = await client.query<{
    id: string;
    oid: string;
    kind: 'r' | 'p';
    selectable: boolean;
    pages: number;
    estimate: number;
  }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS id, c.oid::int8::text AS oid, c.relkind::text AS kind,
            has_table_privilege(c.oid, 'SELECT') AS selectable,
            -- pg_partition_tree() lists nothing for a table outside a partition tree.
            CASE WHEN c.relkind = 'r' THEN c.relpages::float8
                 ELSE (SELECT coalesce(sum(l.relpages), 0)::float8 FROM pg_partition_tree(c.oid) t
                         JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf) END AS pages,
            CASE WHEN c.relkind = 'r' THEN c.reltuples::float8
                 ELSE (SELECT CASE WHEN count(*) = 0 OR bool_or(l.reltuples < 0) THEN -1::float8
                                   ELSE sum(l.reltuples)::float8 END
                         FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid
                        WHERE t.isleaf AND l.relkind = 'r') END AS estimate
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND ((${schemaFilter}
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                                AND d.objid = n.oid AND d.deptype = 'e'))
             OR format('%I.%I', n.nspname, c.relname) = ANY ($2::text[]))
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 1`,
    [options.schemas ?? [...MANAGED_SCHEMAS], managed],
  );
  return rows.map((row) => ({ ...row, oid: Number(row.oid) }));
}

// ---------------------------------------------------------------------------------------------
// Comparison

/**
 * Rows a table may lose without failing verification: a number of rows (`5`, `'5'`) or a
 * percentage of its rows before (`'1%'`, `'0.5%'`).
 */
export type CountTolerance = number | string;

export interface CompareCountsOptions {
  /** Tables the plan drops: their disappearance is `expected`. */
  expectedDrops?: string[];
  /** Tables with an accepted data-loss hazard: losing rows (or vanishing) does not fail. */
  acceptedLoss?: string[];
  /** Per table, or `*` for every table without its own entry. Default: no loss allowed. */
  tolerance?: Record<string, CountTolerance>;
  /** Tables the plan renames, new identity → old identity: compared across the rename. */
  renames?: Record<string, string>;
}

export type CountStatus = 'ok' | 'grew' | 'lost-rows' | 'vanished' | 'new' | 'expected';

export interface TableCount {
  table: string;
  /** For a renamed table: its identity before. */
  renamedFrom?: string;
  before: number | null;
  after: number | null;
  /** after - before; null when the table is on one side only. */
  delta: number | null;
  status: CountStatus;
  /** Why a loss does not fail: `accepted data loss`, `within tolerance (1%: 3 rows)`. */
  allowed?: string;
}

export interface CountFailure {
  table: string;
  status: 'lost-rows' | 'vanished';
  before: number;
  after: number | null;
  message: string;
}

export interface CountComparison {
  /** Every table of either side, sorted by identity. */
  tables: TableCount[];
  failures: CountFailure[];
}

/**
 * Compares counts taken before and after an apply. A table that lost rows fails unless it has
 * an accepted data-loss hazard or the loss is within its tolerance; a table that vanished
 * fails unless the plan drops it (`expected`) or its loss is accepted. Tolerance never covers
 * a vanished table. Growth and new tables never fail.
 */
export function compareCounts(
  before: Record<string, number>,
  after: Record<string, number>,
  options: CompareCountsOptions = {},
): CountComparison {
  const expectedDrops = new Set((options.expectedDrops ?? []).map(normalizeTable));
  const acceptedLoss = new Set((options.acceptedLoss ?? []).map(normalizeTable));
  const tolerance = parseTolerances(options.tolerance ?? {});
  const renamedFrom = new Map<string, string>();
  for (const [to, from] of Object.entries(options.renames ?? {})) {
    const newId = normalizeTable(to);
    const oldId = normalizeTable(from);
    if (Object.hasOwn(after, newId) && !Object.hasOwn(before, newId) && Object.hasOwn(before, oldId))
      renamedFrom.set(newId, oldId);
  }
  const renamedAway = new Set(renamedFrom.values());

  const tables: TableCount[] = [];
  const failures: CountFailure[] = [];
  const ids = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const table of [...ids].sort(compareText)) {
    if (renamedAway.has(table) && !Object.hasOwn(after, table)) continue;
    const oldId = renamedFrom.get(table) ?? table;
    const b = Object.hasOwn(before, oldId) ? (before[oldId] as number) : null;
    const a = Object.hasOwn(after, table) ? (after[table] as number) : null;
    const entry: TableCount = {
      table,
      ...(oldId !== table ? { renamedFrom: oldId } : {}),
      before: b,
      after: a,
      delta: a !== null && b !== null ? a - b : null,
      status: 'ok',
    };
    const accepted = acceptedLoss.has(table) || acceptedLoss.has(oldId);
    if (b === null) {
      entry.status = 'new';
    } else if (a === null) {
      if (expectedDrops.has(table)) entry.status = 'expected';
      else {
        entry.status = 'vanished';
        if (accepted) entry.allowed = 'accepted data loss';
        else
          failures.push({
            table,
            status: 'vanished',
            before: b,
            after: null,
            message: `${table} no longer exists (it had ${rows(b)}), and the plan does not drop it`,
          });
      }
    } else if (a > b) {
      entry.status = 'grew';
    } else if (a < b) {
      entry.status = 'lost-rows';
      const lost = b - a;
      const allowed = tolerance.get(table) ?? tolerance.get(oldId) ?? tolerance.get('*');
      if (accepted) entry.allowed = 'accepted data loss';
      else if (allowed && lost <= allowed.rowsFor(b)) entry.allowed = `within tolerance (${allowed.text})`;
      else
        failures.push({
          table,
          status: 'lost-rows',
          before: b,
          after: a,
          message: `${table} lost ${rows(lost)} (${b} → ${a})${allowed ? `, more than its tolerance of ${allowed.text}` : ''}`,
        });
    }
    tables.push(entry);
  }
  return { tables, failures };
}

interface ParsedTolerance {
  text: string;
  rowsFor(before: number): number;
}

function parseTolerances(tolerance: Record<string, CountTolerance>): Map<string, ParsedTolerance> {
  const parsed = new Map<string, ParsedTolerance>();
  for (const [table, value] of Object.entries(tolerance)) {
    const key = table.trim() === '*' ? '*' : normalizeTable(table);
    const result = parseTolerance(value);
    if (!result) {
      throw new SupagateError('CONFIG_INVALID', `Invalid count tolerance for ${table}: "${String(value)}"`, {
        hint: 'Use a number of rows (5) or a percentage of the rows before (1%).',
        details: { setting: `verify.countTolerance.${table}` },
      });
    }
    parsed.set(key, result);
  }
  return parsed;
}

/** `5`, `'5'` → 5 rows; `'1%'`, `'0.5 %'` → that share of the rows before. Null when invalid. */
export function parseTolerance(value: unknown): ParsedTolerance | null {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? { text: rows(value), rowsFor: () => value } : null;
  }
  if (typeof value !== 'string') return null;
  const rowsMatch = /^\s*(\d+)\s*$/.exec(value);
  if (rowsMatch) {
    const n = Number(rowsMatch[1]);
    return { text: rows(n), rowsFor: () => n };
  }
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
  if (percent) {
    const p = Number(percent[1]);
    if (p > 100) return null;
    return { text: `${p}%`, rowsFor: (before) => Math.floor((before * p) / 100) };
  }
  return null;
}

function rows(n: number): string {
  return `${n} row${n === 1 ? '' : 's'}`;
}

function sortedRecord(record: Record<string, number>): Record<string, number> {
  const sorted: Record<string, number> = {};
  for (const key of Object.keys(record).sort(compareText)) sorted[key] = record[key] as number;
  return sorted;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
