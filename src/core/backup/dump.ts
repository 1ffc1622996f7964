import { spawn } from 'node:child_process';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from '../db/connect.js';
import { type FoundTool, firstLines, libpqEnvironment } from '../db/pgtools.js';
import { describeTarget, redact } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { MANAGED_SCHEMAS, POLICY_ONLY_MANAGED_TABLES } from '../platform.js';
import { type BackupKey, encryptStream } from './encryption.js';
import type { BackupStore } from './stores.js';

/**
 * pg_dump → (hash, encrypt) → store, streamed: the dump never sits in memory or, unencrypted,
 * on disk. It is verified in the same pass (readable by pg_restore to its end, holding every
 * table that was in scope: stream-verify.ts); verify-dump.ts reads a stored dump back.
 *
 * Scopes:
 * - `data` (default): what a migration can damage and a rollback must bring back. Every user
 *   schema whole (definitions and rows; user schemas are all but the Supabase-managed ones of
 *   MANAGED_SCHEMAS and schemas that belong to an extension), the `supabase_migrations`
 *   schema (history and audit, so a restore also restores what was applied), and the rows,
 *   definitions and policies of `storage.buckets` and `storage.objects` (migrations create
 *   buckets and policies; the files themselves live in Storage's object store, not here),
 *   and the manifest records the policies of realtime.messages (POLICY_ONLY_MANAGED_TABLES)
 *   without its rows.
 *   auth and the other managed schemas are left out: Supabase owns them, and a restore into
 *   the same project finds them in place.
 * - `schema`: the same selection, definitions only (`--schema-only`).
 * - `{ schemas, tables, schemaOnly }`: named schemas whole and named tables.
 *
 * pg_dump ignores `--schema` when any `--table` is given, so single tables are selected by
 * dumping their schema and excluding (`--exclude-table`) its other tables, views and foreign
 * tables. The dump then also holds the non-table objects of that schema (functions, types:
 * for `storage`, Supabase's own); a restore into a Supabase project keeps only TABLE DATA and
 * POLICY entries of managed schemas (`manifest.scope.tables` names the tables).
 */
export type BackupScope = 'data' | 'schema' | { schemas?: string[]; tables?: string[]; schemaOnly?: boolean };

/** A table of the dump, identified by its catalog oid (what `pg_restore --list` prints). */
export interface ScopeTable {
  oid: number;
  /** `schema.table`, quoted as PostgreSQL quotes identifiers. */
  name: string;
}

/** What the backup holds, as recorded in the manifest. */
export interface ScopeDescription {
  kind: 'data' | 'schema' | 'named';
  schemaOnly: boolean;
  /** Schemas dumped whole. */
  schemas: string[];
  /** Tables dumped one by one, `schema.table` (with their schema's non-table objects). */
  tables: string[];
}

/** The scope resolved against the catalog: pg_dump's arguments and what the dump must hold. */
export interface DumpSelection {
  description: ScopeDescription;
  /** `--schema` names. */
  includeSchemas: string[];
  /** `--exclude-table` relations: the unselected ones of partially dumped schemas. */
  excludeRelations: { schema: string; name: string }[];
  /** Tables whose TABLE DATA (or TABLE, schema-only) entries the dump must have. */
  expectedTables: ScopeTable[];
  /** Ordinary tables in scope, which hold rows (row counts). */
  rowTables: ScopeTable[];
  /** Ordinary and partitioned tables in scope (RLS snapshot). */
  rlsTables: ScopeTable[];
}

/** Managed tables whose rows belong to the application: buckets and their objects. */
export const DATA_SCOPE_MANAGED_TABLES = ['storage.buckets', 'storage.objects'] as const;
const HISTORY_SCHEMA = 'supabase_migrations';

interface RelationRow {
  oid: number;
  schema: string;
  name: string;
  qualified: string;
  relkind: string;
}

/** Resolves a scope against the catalog of the connected database (run it in the dump's snapshot). */
export async function resolveScope(client: Client, scope: BackupScope = 'data'): Promise<DumpSelection> {
  const { rows: schemaRows } = await client.query<{ name: string }>(
    `SELECT n.nspname AS name FROM pg_namespace n
      WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
      ORDER BY 1`,
  );
  const existingSchemas = new Set(schemaRows.map((row) => row.name));
  const relations = await relationsOf(client);

  let kind: ScopeDescription['kind'];
  let schemaOnly: boolean;
  let wholeSchemas: string[];
  let tableNames: { schema: string; name: string }[];
  if (scope === 'data' || scope === 'schema') {
    kind = scope;
    schemaOnly = scope === 'schema';
    const managed = new Set<string>(MANAGED_SCHEMAS);
    wholeSchemas = [...existingSchemas].filter((name) => !managed.has(name));
    if (existingSchemas.has(HISTORY_SCHEMA)) wholeSchemas.push(HISTORY_SCHEMA);
    tableNames = DATA_SCOPE_MANAGED_TABLES.map((qualified) => {
      const [schema, name] = qualified.split('.') as [string, string];
      return { schema, name };
    }).filter((table) => relations.some((r) => r.schema === table.schema && r.name === table.name));
  } else {
    kind = 'named';
    schemaOnly = scope.schemaOnly ?? false;
    wholeSchemas = [...new Set(scope.schemas ?? [])];
    for (const schema of wholeSchemas) {
      if (!existingSchemas.has(schema)) throw invalidScope(`schema "${schema}" does not exist`);
    }
    tableNames = [];
    for (const text of scope.tables ?? []) {
      const table = parseQualifiedName(text);
      if (!relations.some((r) => r.schema === table.schema && r.name === table.name && isTable(r)))
        throw invalidScope(`table ${text} does not exist`);
      if (!wholeSchemas.includes(table.schema)) tableNames.push(table);
    }
  }
  wholeSchemas = [...new Set(wholeSchemas)].sort();
  if (wholeSchemas.length === 0 && tableNames.length === 0) {
    // pg_dump without --schema would dump the whole database.
    throw invalidScope('it selects nothing');
  }

  const selectedTables = relations.filter((r) =>
    tableNames.some((t) => t.schema === r.schema && t.name === r.name),
  );
  // Partitions of a selected partitioned table come with it.
  const selectedOids = new Set(selectedTables.map((r) => r.oid));
  for (const oid of await partitionsOf(client, [...selectedOids])) selectedOids.add(oid);
  const partialSchemas = [...new Set(tableNames.map((t) => t.schema))].sort();
  const excludeRelations = relations
    .filter(
      (r) => partialSchemas.includes(r.schema) && !selectedOids.has(r.oid) && 'rpvmf'.includes(r.relkind),
    )
    .map((r) => ({ schema: r.schema, name: r.name }));
  const inScope = relations.filter((r) => wholeSchemas.includes(r.schema) || selectedOids.has(r.oid));
  const expectedTables = inScope
    .filter((r) => r.relkind === 'r' || (schemaOnly && r.relkind === 'p'))
    .map((r) => ({ oid: r.oid, name: r.qualified }));
  const rowTables = inScope.filter((r) => r.relkind === 'r').map((r) => ({ oid: r.oid, name: r.qualified }));
  const rlsTables = inScope.filter(isTable).map((r) => ({ oid: r.oid, name: r.qualified }));
  // Realtime Authorization's policies: recorded (not dumped) so that a restore puts them back.
  if (kind !== 'named') {
    for (const qualified of POLICY_ONLY_MANAGED_TABLES) {
      const [schema, name] = qualified.split('.') as [string, string];
      const found = relations.find((r) => r.schema === schema && r.name === name && isTable(r));
      if (found) rlsTables.push({ oid: found.oid, name: found.qualified });
    }
  }
  return {
    description: {
      kind,
      schemaOnly,
      schemas: wholeSchemas,
      tables: selectedTables.map((r) => r.qualified).sort(),
    },
    includeSchemas: [...new Set([...wholeSchemas, ...partialSchemas])].sort(),
    excludeRelations,
    expectedTables,
    rowTables,
    rlsTables,
  };
}

function isTable(relation: RelationRow): boolean {
  return relation.relkind === 'r' || relation.relkind === 'p';
}

/** Relations pg_dump would dump: no temporary tables, no members of extensions. */
async function relationsOf(client: Client): Promise<RelationRow[]> {
  const { rows } = await client.query<RelationRow>(
    `SELECT c.oid::int8::float8 AS oid, n.nspname AS schema, c.relname AS name,
            format('%I.%I', n.nspname, c.relname) AS qualified, c.relkind::text AS relkind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND c.relpersistence <> 't'
        AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 4`,
  );
  return rows.map((row) => ({ ...row, oid: Number(row.oid) }));
}

async function partitionsOf(client: Client, oids: number[]): Promise<number[]> {
  if (oids.length === 0) return [];
  const { rows } = await client.query<{ oid: number }>(
    `WITH RECURSIVE parts AS (
       SELECT inhrelid FROM pg_inherits WHERE inhparent = ANY($1::oid[])
       UNION SELECT i.inhrelid FROM pg_inherits i JOIN parts p ON i.inhparent = p.inhrelid)
     SELECT p.inhrelid::int8::float8 AS oid FROM parts p JOIN pg_class c ON c.oid = p.inhrelid WHERE c.relispartition`,
    [oids],
  );
  return rows.map((row) => Number(row.oid));
}

/** `public.posts`, `posts` (public), `"My Schema"."Posts"`: unquoted names fold to lower case, as in SQL. */
export function parseQualifiedName(text: string): { schema: string; name: string } {
  const parts: string[] = [];
  let i = 0;
  const input = text.trim();
  while (i <= input.length) {
    let part = '';
    if (input[i] === '"') {
      i++;
      for (;;) {
        if (i >= input.length) throw invalidScope(`unterminated quote in "${text}"`);
        if (input[i] === '"') {
          if (input[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += input[i++];
      }
    } else {
      while (i < input.length && input[i] !== '.') part += input[i++];
      part = part.trim().toLowerCase();
    }
    parts.push(part);
    if (i >= input.length) break;
    if (input[i] !== '.') throw invalidScope(`cannot read table name "${text}"`);
    i++;
  }
  if (parts.some((part) => part === '') || parts.length > 2)
    throw invalidScope(`cannot read table name "${text}"`);
  return parts.length === 2
    ? { schema: parts[0] as string, name: parts[1] as string }
    : { schema: 'public', name: parts[0] as string };
}

/** An exact-match pg_dump pattern: inside double quotes nothing is a wildcard. */
function exactPattern(...names: string[]): string {
  return names.map((name) => `"${name.replace(/"/g, '""')}"`).join('.');
}

export function dumpArguments(
  selection: DumpSelection,
  options: { snapshot?: string; lockWaitTimeoutMs?: number } = {},
): string[] {
  return [
    '--format=custom',
    '--no-password',
    ...(selection.description.schemaOnly ? ['--schema-only'] : []),
    ...(options.snapshot ? [`--snapshot=${options.snapshot}`] : []),
    ...(options.lockWaitTimeoutMs !== undefined ? [`--lock-wait-timeout=${options.lockWaitTimeoutMs}`] : []),
    ...selection.includeSchemas.map((schema) => `--schema=${exactPattern(schema)}`),
    ...selection.excludeRelations.map((r) => `--exclude-table=${exactPattern(r.schema, r.name)}`),
  ];
}

/* ------------------------------------------------------------------------------------------ */
/* Dump                                                                                        */
/* ------------------------------------------------------------------------------------------ */

export interface CreateBackupOptions {
  dbUrl: string;
  selection: DumpSelection;
  pgDump: FoundTool;
  store: BackupStore;
  /** Key of the dump in the store. */
  key: string;
  /** Encrypts the stream before it reaches the store. */
  encryptionKey?: BackupKey;
  /** An exported snapshot (pg_export_snapshot) for pg_dump to read in. */
  snapshot?: string;
  /** Stops pg_dump; the backup then fails with BACKUP_FAILED and stores nothing. */
  signal?: AbortSignal;
  /** pg_dump's --lock-wait-timeout: fail instead of queueing behind a long lock. */
  lockWaitTimeoutMs?: number;
  /** Verifies the dump while it streams (stream-verify.ts); the store then keeps it only once verified. */
  verify?: Omit<StreamVerifyOptions, 'key'>;
}

export interface CreatedBackup {
  /** SHA-256 and size of the stored bytes (ciphertext when encrypted). */
  sha256: string;
  sizeBytes: number;
  location: string;
  /** With `verify`: the expected tables, all found in a dump pg_restore read to its end. */
  verifiedTables?: string[];
}

/**
 * Runs pg_dump and streams its output, hashed and optionally encrypted, into the store and,
 * with `verify`, into the verifying pg_restore processes in the same pass. The store sees the
 * end of the stream only once pg_dump exited 0 and the verification passed: a pg_dump that
 * fails, is killed or is cancelled, or a dump that does not verify, makes the stream fail, so
 * the store keeps nothing. Once stored, the stored size must be what was written.
 */
export async function createBackup(options: CreateBackupOptions): Promise<CreatedBackup> {
  describeTarget(options.dbUrl);
  const cancelled = () => cancellation(options.signal);
  if (options.signal?.aborted) throw cancelled();
  let env: NodeJS.ProcessEnv;
  try {
    env = libpqEnvironment(options.dbUrl);
  } catch (error) {
    throw backupFailed('the database URL cannot be parsed', error);
  }
  const args = dumpArguments(options.selection, {
    ...(options.snapshot ? { snapshot: options.snapshot } : {}),
    ...(options.lockWaitTimeoutMs !== undefined ? { lockWaitTimeoutMs: options.lockWaitTimeoutMs } : {}),
  });
  const child = spawn(options.pgDump.path, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  let spawnError: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });

  const verifier = options.verify ? startStreamVerifier({ ...options.verify, key: options.key }) : undefined;
  let verifiedTables: string[] | undefined;
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    child.kill('SIGTERM');
    verifier?.stop();
    child.stdout.destroy(cancelled());
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const failure = async (): Promise<SupagateError> => {
    if (aborted) return cancelled();
    const { code, signal } = await exited;
    if (spawnError) return backupFailed(`pg_dump could not be started (${spawnError.message})`, spawnError);
    const said = firstLines(redact(stderr));
    if (signal) return backupFailed(`pg_dump was killed by ${signal}${said ? `: ${said}` : ''}`);
    return backupFailed(`pg_dump exited with code ${code}${said ? `: ${said}` : ''}`);
  };
  /** pg_dump succeeded, then the verification (which needs the whole stream) did. */
  const verdict = async (): Promise<void> => {
    const { code } = await exited;
    if (code !== 0 || aborted) throw await failure();
    if (verifier) verifiedTables = await verifier.result;
  };

  /** Passes pg_dump's output on, and ends it only when pg_dump succeeded and the dump verified. */
  const gate = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      verdict().then(
        () => callback(),
        (error: Error) => callback(error),
      );
    },
  });
  const bytes = byteProgress('backup');
  const measured = measuring(bytes.add);
  const counter = measured.stream;

  const fanOut = new FanOut([{ stream: gate, droppable: false }, ...(verifier?.branches ?? [])]);
  const feeding = pipeline(child.stdout, new Coalesce(), fanOut);
  const flowing = pipeline([
    gate,
    ...(options.encryptionKey ? [encryptStream(options.encryptionKey)] : []),
    counter,
  ]);
  const storing = options.store.put(options.key, counter);
  const settled = Promise.allSettled([flowing, storing, feeding]);
  const forgetInterrupt = onInterrupt('stopping the backup', async () => {
    onAbort();
    await settled;
    await options.store.remove(options.key).catch(() => {});
    return `stopped pg_dump; nothing of the backup stays in the ${options.store.kind} store`;
  });
  const [flowed, stored, fed] = await settled;
  forgetInterrupt();
  options.signal?.removeEventListener('abort', onAbort);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  verifier?.stop();

  if (flowed.status === 'fulfilled' && stored.status === 'fulfilled' && fed.status === 'fulfilled') {
    try {
      await checkStoredSize(options.store, options.key, measured.sizeBytes());
    } catch (error) {
      await options.store.remove(options.key).catch(() => {});
      throw error;
    }
    bytes.end();
    return {
      sha256: measured.sha256(),
      sizeBytes: measured.sizeBytes(),
      location: stored.value.location,
      ...(verifiedTables ? { verifiedTables } : {}),
    };
  }
  // Nothing may stay under the key; a store that failed cleaned up itself, this is belt and braces.
  await options.store.remove(options.key).catch(() => {});
  throw await streamFailure(options.store.kind, aborted ? cancelled() : undefined, [flowed, stored, fed]);
}

/**
 * The cause of a failed stream, first found of: the cancellation; a store that cannot write
 * (full, read-only: pg_dump was stopped because of it); the gate's error (pg_dump failed or
 * was killed, or the dump did not verify); any other backup error; else BACKUP_FAILED.
 */
async function streamFailure(
  storeKind: string,
  cancelledError: SupagateError | undefined,
  [flowed, stored, fed]: PromiseSettledResult<unknown>[],
): Promise<SupagateError> {
  if (cancelledError) return cancelledError;
  const reasons = [stored, flowed, fed].flatMap((r) =>
    r?.status === 'rejected' ? [r.reason as unknown] : [],
  );
  const storeError = stored?.status === 'rejected' ? (stored.reason as SupagateError) : undefined;
  if (storeError?.code === 'BACKUP_STORE_FAILED') return storeError;
  if (flowed?.status === 'rejected' && flowed.reason instanceof SupagateError) return flowed.reason;
  const backupError = reasons.find((r) => r instanceof SupagateError && r.code.startsWith('BACKUP_'));
  if (backupError) return backupError as SupagateError;
  const reason = reasons[0];
  return backupFailed(
    `the dump could not be written to the ${storeKind} store: ${redact(reason instanceof Error ? reason.message : String(reason))}`,
    reason,
  );
}

/** Why the backup was stopped: the abort's reason (an interrupt, a stall) when it gives one. */
function cancellation(signal: AbortSignal | undefined): SupagateError {
  if (signal?.reason instanceof SupagateError) return signal.reason;
  return new SupagateError('BACKUP_FAILED', 'The backup was cancelled: pg_dump was stopped', {
    hint: 'Nothing was stored and nothing was changed. Run again when it can finish.',
  });
}

function backupFailed(reason: string, cause?: unknown): SupagateError {
  return new SupagateError('BACKUP_FAILED', `Backup failed: ${reason}`, {
    hint: 'Nothing was stored and nothing was changed. pg_dump needs to read every table in scope (SELECT, and a lock it may wait for); check its message above.',
    ...(cause === undefined ? {} : { cause }),
  });
}

// Reading a dump back lives in verify-dump.ts; its callers import it from here.
export {
  type FetchBackupFileOptions,
  fetchBackupFile,
  type VerifiedBackup,
  type VerifyBackupOptions,
  verifyBackup,
} from './verify-dump.js';

import { byteProgress } from '../progress.js';
import { Coalesce, FanOut } from './fan-out.js';
import { measuring } from './measure.js';
import { checkStoredSize } from './stored-size.js';
import { type StreamVerifyOptions, startStreamVerifier } from './stream-verify.js';

function invalidScope(reason: string): SupagateError {
  return new SupagateError('CONFIG_INVALID', `Invalid backup scope: ${reason}`, {
    hint: 'Use "data", "schema", or named schemas and tables that exist (schema.table).',
    details: { setting: 'backup-scope' },
  });
}
