import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeBackup } from '../backup/backup.js';
import { type RestoreResult, restoreBackup } from '../backup/restore.js';
import { DirectoryStore } from '../backup/stores.js';
import type { SupagateConfig } from '../config.js';
import { connect, disconnect } from '../db/connect.js';
import { describeTarget, registerSecret } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { MANAGED_SCHEMAS } from '../schema/model.js';

/**
 * copy: move a project's data to another instance (another region, or from Supabase's cloud to
 * a self-hosted one): a backup of the source (encrypted with a key made for the run, kept in a
 * private temporary folder), restored into the target in one transaction, and row counts and
 * RLS compared table by table with the source's. Storage objects (the files) are not copied:
 * their rows are, so they must be moved with the Storage API.
 */
export interface CopyOptions {
  from: string | undefined;
  to: string | undefined;
  /** Copy into a target whose user schemas already hold tables (they are replaced). */
  force?: boolean;
}

export interface CopyResult {
  command: 'copy';
  from: string;
  to: string;
  tables: number;
  rows: number;
  restore: RestoreResult;
  /** Every table's rows and RLS match the source's snapshot. */
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
    const manifest = await takeBackup({
      dbUrl: options.from,
      store,
      encryptionKey: key,
      ...(config.pgDumpPath ? { pgDumpPath: config.pgDumpPath } : {}),
      ...(config.pgRestorePath ? { pgRestorePath: config.pgRestorePath } : {}),
    });
    const restore = await restoreBackup({
      dbUrl: options.to,
      store,
      manifest,
      encryptionKey: key,
      allowOtherTarget: true,
      ...(config.pgRestorePath ? { pgRestorePath: config.pgRestorePath } : {}),
      lockTimeoutMs: config.lockTimeoutMs,
    });
    return {
      command: 'copy',
      from: source.label,
      to: target.label,
      tables: restore.counts.length,
      rows: restore.counts.reduce((sum, count) => sum + count.actual, 0),
      restore,
      ok: restore.ok,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
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
