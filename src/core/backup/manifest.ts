import { createHash, randomBytes } from 'node:crypto';
import type { Client } from '../db/connect.js';
import { describeTarget } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import type { ScopeDescription } from './dump.js';
import type { ManagedState } from './managed-state.js';

/**
 * What a backup is, stored beside it as `<id>.manifest.json`: enough to pick the right backup
 * for a rollback, check the file before restoring it, and compare the database after an apply
 * with what it was (row counts, RLS). It holds no host, user, password or row data: the target
 * is a fingerprint, tables are names with counts.
 */
export interface BackupManifest {
  /** 1: no `managed`, no `schemaFingerprint`; 2: with them. Restores read both. */
  formatVersion: 1 | 2;
  /** `20240501T120000123Z-1a2b3c4d`: UTC time to the millisecond and a random suffix; sorts by time. */
  id: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  target: {
    /** SHA-256 of host, port and database name: tells databases apart without naming them. */
    fingerprint: string;
  };
  /** `server_version` of the database, e.g. `15.8`. */
  serverVersion: string;
  serverVersionNum: number;
  /** Newest applied migration version before the apply this backup precedes; null when none. */
  historyVersion: string | null;
  /** Table (`schema.table`, quoted as PostgreSQL quotes identifiers) → exact row count, in the dump's snapshot. */
  rowCounts: Record<string, number>;
  /** Per table: RLS switches and policies, in the dump's snapshot. */
  rls: Record<string, TableRls>;
  /**
   * Publication memberships of the tables in scope (supabase_realtime…), in the dump's
   * snapshot: a schema-filtered pg_dump does not hold them. Absent in backups of earlier versions.
   */
  publications?: PublicationMembership[];
  /**
   * Extensions and triggers on Supabase's tables, in the dump's snapshot: what migrations change
   * outside the dumped schemas. Absent in format 1.
   */
  managed?: ManagedState;
  /**
   * Tables with a one-column integer primary key → that key's highest value (null: no rows), in
   * the dump's snapshot: rows above it were written after the backup. Absent in format 1.
   */
  tableKeys?: Record<string, TableKey>;
  /**
   * Fingerprint of the schema model (introspect → fingerprintOf) of the dumped schemas, in the
   * dump's snapshot: a restore proves it gave the schema back. Absent in format 1.
   */
  schemaFingerprint?: string;
  /** The tables the dump was verified to hold (TABLE DATA, or TABLE for a schema-only dump). */
  verifiedTables: string[];
  /** SHA-256 and size of the stored file (the ciphertext when encrypted). */
  sha256: string;
  sizeBytes: number;
  encryption: 'aes-256-gcm' | 'none';
  scope: ScopeDescription;
  /** pg_dump ran in the snapshot the counts and RLS were read in (pg_export_snapshot). */
  consistentSnapshot: boolean;
  location: {
    store: string;
    /** Key of the dump in the store. */
    key: string;
    /** Where the store says it put it: a path, `supabase-storage://bucket/…`, an artifact URL. */
    location: string;
  };
  tool: {
    supagate: string;
    pgDump: string;
  };
  durationMs: number;
}

export interface TableKey {
  column: string;
  /** As text: bigint. */
  max: string | null;
}

export interface TableRls {
  rlsEnabled: boolean;
  rlsForced: boolean;
  policies: PolicySnapshot[];
}

export interface PublicationMembership {
  publication: string;
  /** `schema.table`, quoted as PostgreSQL quotes identifiers. */
  table: string;
  /** A partitioned table is added whole; any other with ONLY. */
  partitioned: boolean;
  /** Published columns (quoted, comma-separated); null for all. */
  columns: string | null;
  /** Row filter (WHERE); null for none. */
  rowFilter: string | null;
}

export interface PolicySnapshot {
  name: string;
  /** ALL, SELECT, INSERT, UPDATE, DELETE. */
  command: string;
  permissive: boolean;
  /** Role names; `public` for everyone. */
  roles: string[];
  using: string | null;
  withCheck: string | null;
}

/** Sortable, unique enough, safe as a file name and an object key. */
export function newBackupId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.(\d{3})Z$/, '$1Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export const MANIFEST_SUFFIX = '.manifest.json';

export function manifestKey(id: string): string {
  return `${id}${MANIFEST_SUFFIX}`;
}

export function dumpKey(id: string, encrypted: boolean): string {
  return `${id}.dump${encrypted ? '.enc' : ''}`;
}

/** SHA-256 of `host:port/database`, lowercased host: the same database always gives the same value. */
export function targetFingerprint(url: string): string {
  const target = describeTarget(url);
  return createHash('sha256')
    .update(`${target.host.toLowerCase()}:${target.port}/${target.database}`)
    .digest('hex');
}

/** Exact row counts of the given tables (`oid`s from the scope), in the current transaction. */
export async function countRows(
  client: Client,
  tables: { oid: number; name: string }[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [...tables].sort((a, b) => a.name.localeCompare(b.name))) {
    // The name comes from format('%I.%I') in the catalog query: already quoted.
    const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${table.name}`);
    counts[table.name] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}

/** RLS switches and policies of the given tables, in the current transaction. */
export async function rlsSnapshot(client: Client, oids: number[]): Promise<Record<string, TableRls>> {
  if (oids.length === 0) return {};
  const { rows } = await client.query<{
    name: string;
    enabled: boolean;
    forced: boolean;
    policies: PolicySnapshot[] | null;
  }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name,
            c.relrowsecurity AS enabled,
            c.relforcerowsecurity AS forced,
            (SELECT json_agg(json_build_object(
                      'name', p.polname,
                      'command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                               WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                      'permissive', p.polpermissive,
                      'roles', (SELECT coalesce(json_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END
                                                         ORDER BY CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END), '[]')
                                  FROM unnest(p.polroles) AS r),
                      'using', pg_get_expr(p.polqual, p.polrelid),
                      'withCheck', pg_get_expr(p.polwithcheck, p.polrelid))
                    ORDER BY p.polname)
               FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = ANY($1::oid[])
      ORDER BY 1`,
    [oids],
  );
  const snapshot: Record<string, TableRls> = {};
  for (const row of rows) {
    snapshot[row.name] = { rlsEnabled: row.enabled, rlsForced: row.forced, policies: row.policies ?? [] };
  }
  return snapshot;
}

/** Parses a stored manifest, refusing what is not one. */
export function parseManifest(text: string, key: string): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidManifest(key, 'not JSON', error);
  }
  const manifest = value as Partial<BackupManifest>;
  if (
    (manifest?.formatVersion !== 1 && manifest?.formatVersion !== 2) ||
    typeof manifest.id !== 'string' ||
    typeof manifest.sha256 !== 'string' ||
    typeof manifest.location?.key !== 'string'
  ) {
    throw invalidManifest(key, 'missing fields or an unknown format version');
  }
  return manifest as BackupManifest;
}

function invalidManifest(key: string, why: string, cause?: unknown): SupagateError {
  return new SupagateError('BACKUP_STORE_FAILED', `Backup manifest "${key}" is invalid: ${why}`, {
    hint: 'The store holds a file supagate did not write, or a newer supagate wrote it.',
    details: { key },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Publication memberships of the given tables, in the current transaction. */
export async function publicationMemberships(
  client: Client,
  oids: number[],
): Promise<PublicationMembership[]> {
  if (oids.length === 0) return [];
  const { rows } = await client.query<PublicationMembership>(
    `SELECT p.pubname AS publication, format('%I.%I', n.nspname, c.relname) AS table,
            c.relkind = 'p' AS partitioned,
            (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs::int2[])) AS columns,
            pg_get_expr(pr.prqual, pr.prrelid) AS "rowFilter"
       FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
       JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE pr.prrelid = ANY($1::oid[])
      ORDER BY 1, 2`,
    [oids],
  );
  return rows;
}

/** One-column integer primary keys of the given tables and their highest value, in the current transaction. */
export async function tableKeys(
  client: Client,
  tables: { oid: number; name: string }[],
): Promise<Record<string, TableKey>> {
  if (tables.length === 0) return {};
  const { rows } = await client.query<{ oid: number; column: string }>(
    `SELECT con.conrelid::int8::float8 AS oid, a.attname AS column
       FROM pg_constraint con JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
      WHERE con.contype = 'p' AND con.conrelid = ANY($1::oid[]) AND cardinality(con.conkey) = 1
        AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)`,
    [tables.map((t) => t.oid)],
  );
  const keys: Record<string, TableKey> = {};
  for (const row of rows) {
    const table = tables.find((t) => t.oid === Number(row.oid));
    if (!table) continue;
    const quoted = `"${row.column.replace(/"/g, '""')}"`;
    const { rows: max } = await client.query<{ max: string | null }>(
      `SELECT max(${quoted})::text AS max FROM ONLY ${table.name}`,
    );
    keys[table.name] = { column: row.column, max: max[0]?.max ?? null };
  }
  return keys;
}
