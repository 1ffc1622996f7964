import { createHash } from 'node:crypto';
import type { Client } from '../db/connect.js';

/**
 * The Supabase CLI's history table, read and written exactly as the CLI does, and
 * supagate's own audit log beside it. The CLI's columns are never changed.
 */
export const HISTORY_SCHEMA = 'supabase_migrations';
export const HISTORY_TABLE = `${HISTORY_SCHEMA}.schema_migrations`;
export const AUDIT_TABLE = `${HISTORY_SCHEMA}.supagate_audit`;

/** A row of `supabase_migrations.schema_migrations`, as written. */
export interface HistoryRow {
  version: string;
  name: string;
  /** null when the row was written by a tool that stores no statements. */
  statements: string[] | null;
}

/** A row as read: the statements only by their text digest, which is all a comparison needs. */
export interface AppliedRow {
  version: string;
  name: string;
  /** textDigest of the stored statements; null when the row stores none. */
  textDigest: string | null;
}

/**
 * White space (what JavaScript's \s matches, which covers what the CLI's Go splitter trims) and
 * semicolons, spelled out so that PostgreSQL's regular expressions match exactly the same.
 */
const SQUASHED =
  '[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff;]+';

/**
 * What an applied file is compared by with the statements the Supabase CLI stored: the text
 * without white space and semicolons (the CLI's pieces cover the whole file, so this is the
 * same for the file and its pieces however they are cut), as the md5 of its UTF-8 bytes. The
 * server computes it from the stored statements (readHistory), so that they are not fetched.
 */
export function textDigest(pieces: string[]): string {
  return createHash('md5')
    .update(pieces.join('').replace(new RegExp(SQUASHED, 'g'), ''), 'utf8')
    .digest('hex');
}

export type AuditOutcome = 'applied' | 'rolled_back';

/** A row of supagate's audit log: one per migration applied (or rolled back) by supagate. */
export interface AuditRecord {
  version: string;
  name: string;
  checksum: string;
  outcome: AuditOutcome;
  transactionMode: string;
  appliedAt: string;
  durationMs: number;
  appliedBy: string | null;
  runId: string | null;
  backupId: string | null;
  toolVersion: string | null;
}

export interface History {
  /** False when the history table does not exist yet (nothing was ever applied). */
  exists: boolean;
  rows: AppliedRow[];
  /** The latest audit record of each version, when supagate applied it. */
  audit: Map<string, AuditRecord>;
}

/** Reads history without creating anything: safe on a read-only connection. */
export async function readHistory(client: Client): Promise<History> {
  const { rows: present } = await client.query<{ history: boolean; audit: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS history, to_regclass($2) IS NOT NULL AS audit`,
    [HISTORY_TABLE, AUDIT_TABLE],
  );
  const tables = present[0] ?? { history: false, audit: false };
  if (!tables.history) return { exists: false, rows: [], audit: new Map() };

  const columns = await historyColumns(client);
  const digest = `md5(convert_to(regexp_replace(array_to_string(statements, ''), $1, '', 'g'), 'UTF8'))`;
  const { rows } = await client.query<AppliedRow>(
    `SELECT version,
            ${columns.has('name') ? `coalesce(name, '')` : `''`} AS name,
            ${columns.has('statements') ? `CASE WHEN statements IS NOT NULL THEN ${digest} END` : 'NULL::text'} AS "textDigest"
       FROM ${HISTORY_TABLE}`,
    columns.has('statements') ? [SQUASHED] : [],
  );
  const audit = new Map<string, AuditRecord>();
  if (tables.audit) {
    const { rows: records } = await client.query<AuditRecord>(
      `SELECT DISTINCT ON (version)
              version, name, checksum, outcome, transaction_mode AS "transactionMode",
              to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "appliedAt",
              duration_ms AS "durationMs", applied_by AS "appliedBy", run_id AS "runId",
              backup_id AS "backupId", tool_version AS "toolVersion"
         FROM ${AUDIT_TABLE}
        ORDER BY version, id DESC`,
    );
    for (const record of records) audit.set(record.version, record);
  }
  return { exists: true, rows, audit };
}

export async function historyColumns(client: Client): Promise<Set<string>> {
  const { rows } = await client.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [HISTORY_TABLE],
  );
  return new Set(rows.map((row) => row.attname));
}

/**
 * Sessions that found the tables complete (committed before): later migrations of the run skip
 * the check. Tables created in a transaction are checked again: it may roll back.
 */
const complete = new WeakSet<Client>();

export function historyTablesKnown(client: Client): boolean {
  return complete.has(client);
}

/**
 * Creates what is missing of the history table (with the Supabase CLI's own statements) and
 * of the audit table. Runs inside the caller's transaction, so a failed first migration
 * leaves no trace. Checks the catalog first: ALTER TABLE would take an exclusive lock on the
 * history table even when the column exists.
 */
export async function ensureHistoryTables(client: Client): Promise<void> {
  if (complete.has(client)) return;
  const { rows } = await client.query<{
    history: boolean;
    statements: boolean;
    name: boolean;
    audit: boolean;
  }>(
    `SELECT to_regclass($1) IS NOT NULL AS history,
            to_regclass($2) IS NOT NULL AS audit,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'statements' AND NOT attisdropped) AS statements,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'name' AND NOT attisdropped) AS name`,
    [HISTORY_TABLE, AUDIT_TABLE],
  );
  const state = rows[0];
  if (state?.history && state.statements && state.name && state.audit) {
    complete.add(client);
    return;
  }
  await client.query(`SET LOCAL lock_timeout = '4s'`);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${HISTORY_SCHEMA}`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (version text NOT NULL PRIMARY KEY)`);
  await client.query(`ALTER TABLE ${HISTORY_TABLE} ADD COLUMN IF NOT EXISTS statements text[]`);
  await client.query(`ALTER TABLE ${HISTORY_TABLE} ADD COLUMN IF NOT EXISTS name text`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${AUDIT_TABLE} (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       version text NOT NULL,
       name text NOT NULL,
       checksum text NOT NULL,
       outcome text NOT NULL CHECK (outcome IN ('applied', 'rolled_back')),
       transaction_mode text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now(),
       duration_ms integer NOT NULL,
       applied_by text,
       run_id text,
       backup_id text,
       tool_version text
     )`,
  );
  await client.query(
    `COMMENT ON TABLE ${AUDIT_TABLE} IS 'supagate: one row per migration applied or rolled back; schema_migrations is the Supabase CLI''s and is left as the CLI writes it'`,
  );
}

/**
 * The history row the Supabase CLI would insert and the audit record, as one statement of SQL
 * text (it goes in a multi-statement query, which takes no parameters). `durationSql` is an
 * SQL expression.
 */
export function recordAppliedSql(
  row: HistoryRow,
  record: Omit<AuditRecord, 'appliedAt' | 'durationMs'>,
  durationSql: string,
): string {
  return `WITH history AS (
  INSERT INTO ${HISTORY_TABLE} (version, name, statements)
  VALUES (${literal(row.version)}, ${literal(row.name)}, ${textArray(row.statements)})
)
${auditInsert(record, durationSql)}`;
}

/** A down file ran: the history row goes, and the audit log says so. */
export function recordRevertedSql(
  record: Omit<AuditRecord, 'appliedAt' | 'durationMs'>,
  durationSql: string,
): string {
  return `WITH gone AS (DELETE FROM ${HISTORY_TABLE} WHERE version = ${literal(record.version)})
${auditInsert(record, durationSql)}`;
}

function auditInsert(record: Omit<AuditRecord, 'appliedAt' | 'durationMs'>, durationSql: string): string {
  const values = [
    literal(record.version),
    literal(record.name),
    literal(record.checksum),
    literal(record.outcome),
    literal(record.transactionMode),
    durationSql,
    literal(record.appliedBy),
    literal(record.runId),
    literal(record.backupId),
    literal(record.toolVersion),
  ];
  return `INSERT INTO ${AUDIT_TABLE}
  (version, name, checksum, outcome, transaction_mode, duration_ms, applied_by, run_id, backup_id, tool_version)
VALUES (${values.join(', ')})`;
}

function textArray(values: string[] | null): string {
  if (values === null) return 'NULL::text[]';
  return values.length === 0 ? `'{}'::text[]` : `ARRAY[${values.map(literal).join(', ')}]::text[]`;
}

/**
 * A dollar-quoted literal (or NULL): read the same whatever standard_conforming_strings a
 * migration left, since the whole query is lexed before any of it runs.
 */
export function literal(value: string | null): string {
  if (value === null) return 'NULL';
  let tag = 'sg';
  for (let i = 1; `${value}$${tag}$`.indexOf(`$${tag}$`) !== value.length; i++) tag = `sg${i}`;
  return `$${tag}$${value}$${tag}$`;
}

export async function insertAuditRecord(
  client: Client,
  record: Omit<AuditRecord, 'appliedAt'>,
): Promise<void> {
  await client.query(
    `INSERT INTO ${AUDIT_TABLE}
       (version, name, checksum, outcome, transaction_mode, duration_ms, applied_by, run_id, backup_id, tool_version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      record.version,
      record.name,
      record.checksum,
      record.outcome,
      record.transactionMode,
      record.durationMs,
      record.appliedBy,
      record.runId,
      record.backupId,
      record.toolVersion,
    ],
  );
}
