import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeBackup } from '../backup/backup.js';
import { copyStorageObjects, type StorageCopyResult, type StorageProject } from '../backup/storage-copy.js';
import { DirectoryStore } from '../backup/stores.js';
import type { SupagateConfig } from '../config.js';
import { connect, disconnect } from '../db/connect.js';
import { describeTarget, registerSecret } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { MANAGED_SCHEMAS } from '../platform.js';
import { phase } from '../progress.js';
import { type RestoreResult, restoreBackup } from '../restore/index.js';

/**
 * copy: move a project's data to another instance (another region, or from Supabase's cloud to
 * a self-hosted one): a backup of the source (encrypted with a key made for the run, kept in a
 * private temporary folder), restored into the target in one transaction, and row counts and
 * RLS compared table by table with the source's. With `storage`, the Storage files too,
 * through both projects' Storage APIs, each verified by its sha256.
 */
export interface CopyOptions {
  from: string | undefined;
  to: string | undefined;
  /** Copy into a target whose user schemas already hold tables (they are replaced). */
  force?: boolean;
  /** Also copy the Storage files: both projects' API URLs and service_role keys. */
  storage?: { from: StorageProject; to: StorageProject };
}

export interface CopyResult {
  command: 'copy';
  from: string;
  to: string;
  tables: number;
  rows: number;
  restore: RestoreResult;
  /** The Storage files, when asked for: per bucket, objects copied and verified. */
  storage?: StorageCopyResult;
  /** Every table's rows and RLS match the source's snapshot (and every file, with storage). */
  ok: boolean;
  durationMs: number;
}

export async function copyDatabase(config: SupagateConfig, options: CopyOptions): Promise<CopyResult> {
  if (!options.from || !options.to) {
    throw new SupagateError(
      'CONFIG_INVALID',
      `copy needs two databases: ${options.from ? '--to' : '--from'} is missing`,
      {
        hint: 'Pass --from <url> (the source) and --to <url> (the target).',
        details: { setting: options.from ? 'to' : 'from' },
      },
    );
  }
  const started = performance.now();
  const source = describeTarget(options.from);
  const target = describeTarget(options.to);
  if (!options.force) await assertEmpty(options.to, target.label);

  const work = await mkdtemp(join(tmpdir(), 'supagate-copy-'));
  const key = randomBytes(32).toString('hex');
  registerSecret(key);
  try {
    const store = new DirectoryStore(work);
    const manifest = await phase('backup', () =>
      takeBackup({
        dbUrl: options.from as string,
        store,
        encryptionKey: key,
        ...(config.pgDumpPath ? { pgDumpPath: config.pgDumpPath } : {}),
        ...(config.pgRestorePath ? { pgRestorePath: config.pgRestorePath } : {}),
      }),
    );
    const restore = await phase('restore', () =>
      restoreBackup({
        dbUrl: options.to as string,
        store,
        manifest,
        encryptionKey: key,
        allowOtherTarget: true,
        ...(config.pgRestorePath ? { pgRestorePath: config.pgRestorePath } : {}),
        lockTimeoutMs: config.lockTimeoutMs,
      }),
    ).catch((error: unknown) => {
      throw withAuthHint(error);
    });
    // Files after rows: uploading with a service key makes the target's rows ownerless, so
    // the owners the source's rows name are written back afterwards.
    const storageProjects = options.storage;
    const storage = storageProjects
      ? await phase('storage', () => copyStorageObjects(storageProjects))
      : undefined;
    if (storage) await copyObjectAttributes(options.from, options.to);
    return {
      command: 'copy',
      from: source.label,
      to: target.label,
      tables: restore.counts.length,
      rows: restore.counts.reduce((sum, count) => sum + count.actual, 0),
      restore,
      ...(storage ? { storage } : {}),
      ok: restore.ok && (storage?.ok ?? true),
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * What a Storage upload with a service key does not carry over, from the source's object rows
 * to the target's: the owner (and owner_id), and the user metadata (user_metadata), where each
 * side's Storage has those columns. Returns the rows updated.
 */
export async function copyObjectAttributes(fromUrl: string, toUrl: string): Promise<number> {
  const from = await connect(fromUrl, { readOnly: true, applicationName: 'supagate copy' });
  const to = await connect(toUrl, { applicationName: 'supagate copy' });
  try {
    const { rows } = await from.client.query<{ objects: unknown }>(
      `SELECT coalesce(json_agg(json_build_object('bucket_id', bucket_id, 'name', name, 'owner', owner,
              'owner_id', to_jsonb(o) ->> 'owner_id', 'user_metadata', to_jsonb(o) -> 'user_metadata')), '[]') AS objects
         FROM storage.objects o
        WHERE owner IS NOT NULL OR to_jsonb(o) ->> 'owner_id' IS NOT NULL
           OR jsonb_typeof(to_jsonb(o) -> 'user_metadata') IS DISTINCT FROM 'null'`,
    );
    const { rows: columns } = await to.client.query<{ name: string }>(
      `SELECT attname AS name FROM pg_attribute
        WHERE attrelid = 'storage.objects'::regclass AND attname IN ('owner_id', 'user_metadata') AND NOT attisdropped`,
    );
    const has = new Set(columns.map((column) => column.name));
    const set = [
      'owner = x.owner',
      ...(has.has('owner_id') ? ['owner_id = x.owner_id'] : []),
      ...(has.has('user_metadata') ? ['user_metadata = x.user_metadata'] : []),
    ];
    const result = await to.client.query(
      `UPDATE storage.objects o SET ${set.join(', ')}
         FROM json_to_recordset($1) AS x(bucket_id text, name text, owner uuid, owner_id text, user_metadata jsonb)
        WHERE o.bucket_id = x.bucket_id AND o.name = x.name`,
      [JSON.stringify(rows[0]?.objects ?? [])],
    );
    return result.rowCount ?? 0;
  } finally {
    await disconnect(from);
    await disconnect(to);
  }
}

/** Rows that reference auth.users need the users: Supabase's auth schema is not part of the copy. */
function withAuthHint(error: unknown): unknown {
  if (!(error instanceof SupagateError) || !/violates foreign key constraint/.test(error.message))
    return error;
  return new SupagateError(error.code, error.message, {
    hint:
      'The copied rows reference rows the target lacks, usually auth.users: supagate copies your schemas, not ' +
      "Supabase's auth schema. Move the users first (Supabase's project migration), then copy again. Nothing was changed.",
    details: error.details,
    cause: error,
  });
}

/** A target whose user schemas hold tables is refused unless --force: copy replaces them. */
async function assertEmpty(url: string, label: string): Promise<void> {
  const connection = await connect(url, { readOnly: true, applicationName: 'supagate copy' });
  try {
    const { rows } = await connection.client.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT (n.nspname = ANY ($1)) AND n.nspname !~ '^pg_'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1 LIMIT 5`,
      [[...MANAGED_SCHEMAS]],
    );
    if (rows.length > 0) {
      throw new SupagateError(
        'COPY_TARGET_NOT_EMPTY',
        `The target ${label} already has tables (${rows.map((r) => r.name).join(', ')}${rows.length === 5 ? ', …' : ''})`,
        {
          hint: 'Copy into a new project, or pass --force to replace what the target has in those schemas.',
          details: { tables: rows.map((r) => r.name) },
        },
      );
    }
  } finally {
    await disconnect(connection);
  }
}
