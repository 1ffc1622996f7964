import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rename, rm } from 'node:fs/promises';
import { devNull, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type FoundTool, firstLines, runTool } from '../db/pgtools.js';
import { SupagateError } from '../errors.js';
import { removeOnInterrupt } from '../interrupt.js';
import { streamToNewFile } from '../new-file.js';
import type { ScopeTable } from './dump.js';
import { type BackupKey, decryptToFile, isEncryptedHeader } from './encryption.js';
import { measuring } from './measure.js';
import type { BackupStore } from './stores.js';

/**
 * A stored dump read back as a restore would read it: fetched, checked, decrypted, listed and
 * read whole by pg_restore. Split from dump.ts, which writes it.
 */
export interface VerifyBackupOptions {
  store: BackupStore;
  key: string;
  /** Needed when the stored file is encrypted. */
  encryptionKey?: BackupKey;
  /** The tables the source had in scope, from its catalog in the dump's snapshot. */
  expectedTables: ScopeTable[];
  schemaOnly: boolean;
  /** SHA-256 the stored file must have (what createBackup measured). */
  expectedSha256?: string;
  pgRestore: FoundTool;
}

export interface VerifiedBackup {
  sha256: string;
  sizeBytes: number;
  /** The expected tables, all found. */
  tables: string[];
}

/**
 * Reads the stored dump back as a restore would: fetch, check its SHA-256, decrypt
 * (authenticated), `pg_restore --list` it and find every expected table, then let pg_restore
 * read it whole (`--file=/dev/null`), so a dump whose data blocks are damaged fails too.
 * Any shortfall is BACKUP_UNVERIFIED. The plaintext exists only in a private temporary folder,
 * removed before returning.
 */
export async function verifyBackup(options: VerifyBackupOptions): Promise<VerifiedBackup> {
  const workDir = await mkdtemp(join(tmpdir(), 'supagate-verify-'));
  const forgetInterrupt = removeOnInterrupt(workDir, 'the decrypted copy of the backup being verified');
  try {
    const file = join(workDir, 'backup.dump');
    const { sha256, sizeBytes } = await fetchBackupFile({
      store: options.store,
      key: options.key,
      destination: file,
      ...(options.encryptionKey ? { encryptionKey: options.encryptionKey } : {}),
      ...(options.expectedSha256 ? { expectedSha256: options.expectedSha256 } : {}),
    });

    const list = await runTool(options.pgRestore.path, ['--list', file], {});
    if (list.code !== 0) {
      throw unverified(`pg_restore cannot read the dump: ${firstLines(list.stderr)}`, options.key);
    }
    missingTables(
      options.expectedTables,
      tocOids(list.stdout, options.schemaOnly ? 'TABLE' : 'TABLE DATA'),
      options.key,
    );
    const full = await runTool(options.pgRestore.path, [`--file=${devNull}`, file], {});
    if (full.code !== 0) {
      throw unverified(`pg_restore cannot read the dump to its end: ${firstLines(full.stderr)}`, options.key);
    }
    return { sha256, sizeBytes, tables: options.expectedTables.map((t) => t.name).sort() };
  } finally {
    await rm(workDir, { recursive: true, force: true });
    forgetInterrupt();
  }
}

/** BACKUP_UNVERIFIED naming the expected tables that `listed` (oids) lacks. */
export function missingTables(expected: ScopeTable[], listed: Set<number>, key: string): void {
  const missing = expected.filter((table) => !listed.has(table.oid)).map((t) => t.name);
  if (missing.length === 0) return;
  throw unverified(
    `the dump lacks ${missing.length} table${missing.length === 1 ? '' : 's'} that ${missing.length === 1 ? 'was' : 'were'} in scope: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}`,
    key,
    { missing },
  );
}

/** `3354; 0 16458 TABLE DATA storage buckets postgres` → the oids of entries of one type. */
export function tocOids(list: string, type: 'TABLE' | 'TABLE DATA'): Set<number> {
  const oids = new Set<number>();
  for (const line of list.split('\n')) {
    const match = /^\s*\d+;\s+\d+\s+(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const description = match[2] as string;
    if (!description.startsWith(`${type} `)) continue;
    // TABLE must not match TABLE DATA / TABLE ATTACH.
    if (type === 'TABLE' && /^TABLE (DATA|ATTACH) /.test(description)) continue;
    oids.add(Number(match[1]));
  }
  return oids;
}

export interface FetchBackupFileOptions {
  store: BackupStore;
  key: string;
  destination: string;
  encryptionKey?: BackupKey;
  expectedSha256?: string;
}

/**
 * Copies a stored dump to a local file (mode 0600), decrypted, for pg_restore. Checks the
 * stored bytes' SHA-256 when given; the file appears only when everything checked out.
 */
export async function fetchBackupFile(
  options: FetchBackupFileOptions,
): Promise<{ sha256: string; sizeBytes: number }> {
  const measured = measuring();
  const counter = measured.stream;
  const source = await options.store.get(options.key);
  const temporary = join(
    dirname(options.destination),
    `.${basename(options.destination)}.${randomBytes(6).toString('hex')}.partial`,
  );
  try {
    if (options.encryptionKey) {
      await decryptToFile(source, options.encryptionKey, temporary, { through: [counter] });
    } else {
      await streamToNewFile(source, temporary, [counter]);
      if (await startsEncrypted(temporary)) {
        throw unverified('the stored dump is encrypted and no encryption key was given', options.key);
      }
    }
    const sha256 = measured.sha256();
    if (options.expectedSha256 && sha256 !== options.expectedSha256) {
      throw unverified(
        `the stored file's SHA-256 (${sha256}) differs from the one measured while it was written (${options.expectedSha256})`,
        options.key,
      );
    }
    await rename(temporary, options.destination);
    return { sha256, sizeBytes: measured.sizeBytes() };
  } catch (error) {
    source.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

async function startsEncrypted(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return isEncryptedHeader(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

export function unverified(
  reason: string,
  key: string,
  details: Record<string, unknown> = {},
): SupagateError {
  return new SupagateError('BACKUP_UNVERIFIED', `The backup could not be verified: ${reason}`, {
    hint: 'A backup that cannot be restored is no backup: nothing was applied. Check the store and the pg_restore version, then run again.',
    details: { key, ...details },
  });
}
