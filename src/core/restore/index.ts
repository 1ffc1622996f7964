import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { devNull, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchBackupFile } from '../backup/dump.js';
import type { BackupKey } from '../backup/encryption.js';
import type { BackupManifest } from '../backup/manifest.js';
import { type Client, type Connection, connect, disconnect } from '../db/connect.js';
import { type FoundTool, findPgTool, firstLines, runTool } from '../db/pgtools.js';
import { redact } from '../db/redact.js';
import { runRestoreScript } from '../db/restore-script.js';
import { SupagateError } from '../errors.js';
import { onInterrupt, removeOnInterrupt } from '../interrupt.js';
import { phase } from '../progress.js';
import { readHistoryEntries, recordRestore } from './audit.js';
import { checkTarget, dumpMajor, isSameTarget, requireKey, restoredTables, restoreScope } from './checks.js';
import { restoreFailed, runStatement, unsafeDependents } from './errors.js';
import { planRestore } from './plan.js';
import { proveRestored } from './proof.js';
import { sequenceFloors, sequenceValues } from './sequences.js';
import { parseToc, type TocEntry } from './toc.js';
import type { RestoreOptions, RestoreResult, RestoreScope } from './types.js';
import { restoredRowCounts } from './verify.js';
import { type TableWrites, writesSinceBackup, writesWouldBeLost } from './writes.js';

export { parseToc, type TocEntry } from './toc.js';
export type { RestoreOptions, RestoreResult } from './types.js';

const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
const FINAL_STEPS = (manifest: BackupManifest) => [
  'Keep every sequence at or above the values it handed out; record the restore in the audit trail',
  `Verify the row counts (${Object.keys(restoredRowCounts(manifest)).length} tables) and RLS (${Object.keys(manifest.rls).length} tables) against the manifest${manifest.schemaFingerprint ? ", and the schema against the backup's fingerprint" : ''}${manifest.consistentSnapshot ? '; any difference rolls everything back' : ''}`,
  'Tell PostgREST to reload its schema cache',
  'Commit',
];

/**
 * Restore: puts every scope a migration can touch back to the state the backup recorded, in one
 * transaction.
 *
 * What returns to the backup's state:
 * - every user schema the backup holds whole (`manifest.scope.schemas`): objects created after
 *   the backup are gone, objects dropped since come back with their rows, rows are the backup's.
 *   Such a schema is dropped (`DROP SCHEMA … CASCADE`) and recreated from the dump, owner,
 *   privileges, default privileges and comment included. Two are kept and emptied object by
 *   object instead: `public` (every database has it, PostgreSQL records its initial privileges,
 *   Supabase grants on it, extensions live in it: their members stay; its privileges are reset
 *   to the initial ones and the backup's re-applied) and `supabase_migrations`, whose audit
 *   trail is append-only: the history comes back (or goes, when the backup had none), the audit
 *   keeps every row and gains one for the restore.
 * - user schemas created after the backup (a backup of everything lists every one that existed):
 *   dropped.
 * - each table the backup holds on its own (storage.buckets and storage.objects, which Supabase
 *   owns): rows deleted and the backup's loaded, policies and RLS switches as the backup's.
 * - what the manifest recorded outside the dump (format 2): triggers on Supabase's tables
 *   (`on auth.users … execute function public.handle_new_user()`), extensions, publication
 *   memberships, Realtime's policies.
 *
 * Before anything changes, rows written since the backup are counted per table (by the
 * backup's highest key where there is one): the restore refuses to discard them unless told
 * (`discardWritesSinceBackup`). Sequences are not set below values already handed out.
 *
 * Everything runs in one transaction on one connection, with `lock_timeout`: the tables are
 * locked first, the catalog is read under those locks, the drops run, then the SQL that
 * `pg_restore --use-list <filtered> --file=-` makes of the dump (COPY data streamed through
 * the same connection), then what must follow, then the proof (row counts and RLS against the
 * manifest, the schema model's fingerprint against the recorded one), then COMMIT. Any failure
 * rolls back: the database is exactly as it was before. (A backup whose dump did not run in the
 * manifest's snapshot, `consistentSnapshot: false`, may differ a little: then a mismatch is
 * reported, `ok: false`, and the restore is kept.)
 *
 * Objects outside that scope that depend on objects the restore drops would be dropped by the
 * CASCADE without coming back: they are found first (pg_depend) and the restore refuses,
 * naming them (RESTORE_UNSAFE) with SQL that moves them out of the way where it can tell.
 *
 * Not restored: roles, Supabase-managed schemas (auth, …), the definition, triggers and indexes
 * of tables restored on their own. The caller takes the migration lock (rollback does); this
 * function does not. While it runs, the restored tables are locked (ACCESS EXCLUSIVE).
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const manifest = options.manifest;
  const dryRun = options.dryRun ?? false;
  checkTarget(options);
  const scope = restoreScope(manifest);
  const key = manifest.encryption === 'none' ? undefined : requireKey(options, manifest);
  const workDir = await mkdtemp(join(tmpdir(), 'supagate-restore-'));
  // The decrypted dump must not outlive an interrupt; an open restore transaction is rolled back
  // by ending its connection (the server rolls back what a vanished client began).
  const forgetWorkDir = removeOnInterrupt(workDir, 'the decrypted backup being restored');
  let forgetConnection: (() => void) | undefined;
  let connection: Connection | undefined;
  let open = false;
  try {
    const archive = await phase('restore-fetch', () => fetchArchive(options, scope, key, workDir));
    connection = await connect(options.dbUrl, {
      applicationName: 'supagate restore',
      ...(dryRun ? { readOnly: true } : {}),
    });
    const client = connection.client;
    forgetConnection = onInterrupt('the restore transaction', async () => {
      await client.end();
      return 'ended the restore transaction: nothing of it was committed';
    });
    await beginRestoreTransaction(client, dryRun, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
    open = true;
    const history = await readHistoryEntries(client);
    // Into another database (a copy, or on purpose): its own schemas and rows are not "since".
    const sameTarget = isSameTarget(options);
    const plan = await planRestore(client, manifest, scope, archive.toc, {
      lock: !dryRun,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      sameTarget,
    });
    if (plan.unsafe.length > 0) throw unsafeDependents(manifest, plan.unsafe, plan.fix);
    const writes = sameTarget
      ? await writesSinceBackup(
          client,
          manifest,
          plan.replacedSchemas,
          scope.partialTables.map((t) => t.name),
        )
      : [];
    if (writes.length > 0 && !dryRun && !options.discardWritesSinceBackup)
      throw writesWouldBeLost(manifest, writes);
    const listFile = join(workDir, 'restore.list');
    await writeFile(listFile, `${plan.keep.map((entry) => entry.line).join('\n')}\n`, { mode: 0o600 });
    const steps = [archive.step, ...plan.steps];
    if (sameTarget) steps.splice(2, 0, writesStep(writes));
    const base = {
      backupId: manifest.id,
      schemas: scope.wholeSchemas,
      schemasDropped: plan.createdSince,
      tables: restoredTables(manifest),
      writesSinceBackup: writes,
    };

    if (dryRun) {
      await checkScript(archive, listFile);
      await client.query('ROLLBACK');
      open = false;
      return {
        ...base,
        steps: [...steps, ...FINAL_STEPS(manifest), 'Dry run: nothing was changed'],
        counts: [],
        rls: [],
        schema: 'not-checked',
        historyRestored: false,
        revertedVersions: [],
        ok: true,
        durationMs: Math.round(performance.now() - started),
      };
    }

    const handedOut = await sequenceValues(client, plan.replacedSchemas);
    for (const statement of plan.before) await runStatement(client, statement);
    await phase('restore-script', () =>
      runRestoreScript(client, archive.pgRestore, listFile, archive.dumpFile),
    );
    for (const statement of plan.after) await runStatement(client, statement);
    for (const statement of sequenceFloors(handedOut)) await runStatement(client, statement);
    const revertedVersions = await recordRestore(client, history, {
      backupId: manifest.id,
      actor: options.actor ?? null,
      runId: options.runId ?? null,
      startedAt: started,
    });

    const proof = await phase('restore-proof', () => proveRestored(client, manifest));
    await client.query(`NOTIFY pgrst, 'reload schema'`);
    await client.query('COMMIT');
    open = false;
    return {
      ...base,
      steps: [...steps, ...FINAL_STEPS(manifest)],
      counts: proof.counts,
      rls: proof.rls,
      schema: proof.schema,
      historyRestored: scope.holdsHistory,
      revertedVersions,
      ok: proof.ok,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    if (error instanceof SupagateError) throw error;
    throw restoreFailed(redact(error instanceof Error ? error.message : String(error)), { cause: error });
  } finally {
    forgetConnection?.();
    if (connection) {
      if (open) await connection.client.query('ROLLBACK').catch(() => {});
      await disconnect(connection);
    }
    await rm(workDir, { recursive: true, force: true });
    forgetWorkDir();
  }
}

interface Archive {
  dumpFile: string;
  pgRestore: FoundTool;
  toc: TocEntry[];
  /** The step that fetched it, for the list of steps. */
  step: string;
}

/** Fetches the dump, checks its SHA-256 (and decrypts it), and reads its table of contents. */
async function fetchArchive(
  options: RestoreOptions,
  scope: RestoreScope,
  key: BackupKey | undefined,
  workDir: string,
): Promise<Archive> {
  const manifest = options.manifest;
  const dumpFile = join(workDir, 'backup.dump');
  await fetchBackupFile({
    store: options.store,
    key: manifest.location.key,
    destination: dumpFile,
    expectedSha256: manifest.sha256,
    ...(key ? { encryptionKey: key } : {}),
  });
  const pgRestore = await findPgTool('pg_restore', {
    minMajor: dumpMajor(manifest),
    ...(options.pgRestorePath ? { explicitPath: options.pgRestorePath } : {}),
  });
  const listed = await runTool(pgRestore.path, ['--list', dumpFile], {});
  if (listed.code !== 0) {
    throw restoreFailed(`pg_restore cannot read the backup: ${firstLines(listed.stderr)}`, {
      hint: 'The file matched its SHA-256, so pg_restore is likely older than the pg_dump that wrote it. Nothing was changed.',
    });
  }
  return {
    dumpFile,
    pgRestore,
    toc: parseToc(listed.stdout, [...scope.wholeSchemas, ...scope.partialSchemas]),
    step: `Fetch ${manifest.location.key} from the ${options.store.kind} store, check its SHA-256 against the manifest${key ? ' and decrypt it' : ''}`,
  };
}

async function beginRestoreTransaction(
  client: Client,
  dryRun: boolean,
  lockTimeoutMs: number,
): Promise<void> {
  await client.query(dryRun ? 'BEGIN READ ONLY' : 'BEGIN');
  // Catalog names come back schema-qualified; statement_timeout off as in pg_restore's own session.
  await client.query(
    `SELECT set_config('search_path', '', true), set_config('lock_timeout', $1, true),
            set_config('statement_timeout', '0', true), set_config('idle_in_transaction_session_timeout', '0', true),
            set_config('row_security', 'off', true)`,
    [`${lockTimeoutMs}ms`],
  );
}

/** pg_restore must be able to produce everything the restore would run. */
async function checkScript(archive: Archive, listFile: string): Promise<void> {
  const check = await runTool(
    archive.pgRestore.path,
    ['--use-list', listFile, `--file=${devNull}`, archive.dumpFile],
    {},
  );
  if (check.code !== 0) {
    throw restoreFailed(`pg_restore cannot produce the restore script: ${firstLines(check.stderr)}`);
  }
}

function writesStep(writes: TableWrites[]): string {
  const how =
    "rows above the backup's highest key, else more rows than it had; changed rows cannot be told apart";
  return writes.length === 0
    ? `Compare each table with the backup: no rows written since (${how})`
    : `Compare each table with the backup: ${writes.length} table${writes.length === 1 ? ' has' : 's have'} rows written since, which the restore discards (${how})`;
}
