import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeBackup } from '../src/core/backup/backup.js';
import { BackupKey } from '../src/core/backup/encryption.js';
import { type BackupStore, DirectoryStore } from '../src/core/backup/stores.js';
import { findPgTool } from '../src/core/db/pgtools.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { fakePgDump } from './harness/fake-tools.js';

const KEY = BackupKey.parse(randomBytes(32).toString('hex'));

/** Every file in a folder, hidden temporary files included. */
async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** Temporary folders of a read-back verification: a streamed one makes none. */
async function verifyFolders(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('supagate-verify-')).sort();
}

/** A stand-in pg_restore: answers --version like pg_restore 15, then runs the shell `body`. */
async function fakePgRestore(dir: string, body: string): Promise<string> {
  const path = join(dir, `pg_restore-${randomBytes(4).toString('hex')}`);
  await writeFile(
    path,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_restore (PostgreSQL) 15.99"; exit 0; fi\n${body}\n`,
  );
  await chmod(path, 0o755);
  return path;
}

describe('a backup verified while it streams', () => {
  let source: TestDatabase;
  let work: string;
  let pgDump: string;
  let pgRestore: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'supagate-backup-stream-test-'));
    source = await createTestDatabase();
    // Several MB of dump: far more than the pipes hold, so pg_restore --list closes early.
    await source.query(`create table public.events as
      select g as id, md5(g::text) || md5((g * 3)::text) as note, g % 97 as kind
        from generate_series(1, 200000) g`);
    await source.query('create table public.small (id int primary key, name text)');
    await source.query(`insert into public.small values (1, 'one'), (2, 'two')`);
    pgDump = (await findPgTool('pg_dump', { minMajor: 15 })).path;
    pgRestore = (await findPgTool('pg_restore', { minMajor: 15 })).path;
  });

  afterAll(async () => {
    await source?.drop();
    await rm(work, { recursive: true, force: true });
  });

  it('records the SHA-256 and size of the stored file, verified in the same pass, with nothing in tmp', async () => {
    const dir = join(work, 'ok');
    const store = new DirectoryStore(dir);
    const before = await verifyFolders();
    const manifest = await takeBackup({ dbUrl: source.url, store, encryptionKey: KEY });
    expect(await verifyFolders()).toEqual(before);
    expect(manifest.verifiedTables).toEqual([
      'public.events',
      'public.small',
      'storage.buckets',
      'storage.objects',
    ]);
    const stored = await readFile(join(dir, manifest.location.key));
    expect(manifest.sizeBytes).toBe(stored.length);
    expect(manifest.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
    expect(manifest.sizeBytes).toBeGreaterThan(1024 * 1024);
    expect(await filesIn(dir)).toEqual([manifest.location.key, `${manifest.id}.manifest.json`].sort());
  });

  it('is not verified when pg_dump is killed part-way: BACKUP_FAILED, nothing stored', async () => {
    const dir = join(work, 'killed');
    const store = new DirectoryStore(dir);
    const killed = await fakePgDump(work, `"${pgDump}" "$@" | head -c 300000\nkill -9 $$`);
    const error = await rejection(
      takeBackup({ dbUrl: source.url, store, encryptionKey: KEY, pgDumpPath: killed }),
    );
    expect(error.code).toBe('BACKUP_FAILED');
    expect(error.message).toContain('pg_dump was killed by SIGKILL');
    expect(await filesIn(dir)).toEqual([]);
  });

  it('is not verified when the archive is cut short though pg_dump exits 0: BACKUP_UNVERIFIED, nothing stored', async () => {
    const dir = join(work, 'truncated');
    const store = new DirectoryStore(dir);
    const truncated = await fakePgDump(
      work,
      `f=$(mktemp)\n"${pgDump}" "$@" > "$f" || exit 1\nhead -c $(( $(stat -c %s "$f") / 2 )) "$f"\nrm -f "$f"\nexit 0`,
    );
    const before = await verifyFolders();
    const error = await rejection(
      takeBackup({ dbUrl: source.url, store, encryptionKey: KEY, pgDumpPath: truncated }),
    );
    expect(error.code).toBe('BACKUP_UNVERIFIED');
    expect(error.message).toContain('pg_restore cannot read the dump to its end');
    expect(await filesIn(dir)).toEqual([]);
    expect(await verifyFolders()).toEqual(before);
  });

  it('is not verified when data after the table of contents is damaged in the stream', async () => {
    const dir = join(work, 'damaged');
    const store = new DirectoryStore(dir);
    // One byte flipped at 60% of the archive: inside the compressed rows of public.events.
    const damaged = await fakePgDump(
      work,
      [
        'f=$(mktemp)',
        `"${pgDump}" "$@" > "$f" || exit 1`,
        'at=$(( $(stat -c %s "$f") * 3 / 5 ))',
        `perl -e 'open(my $h, "+<", $ARGV[0]) or die; seek($h, $ARGV[1], 0); read($h, my $b, 1); seek($h, $ARGV[1], 0); print $h chr(ord($b) ^ 0xff); close($h)' "$f" "$at"`,
        'cat "$f"',
        'rm -f "$f"',
      ].join('\n'),
    );
    const error = await rejection(takeBackup({ dbUrl: source.url, store, pgDumpPath: damaged }));
    expect(error.code).toBe('BACKUP_UNVERIFIED');
    expect(error.message).toContain('pg_restore cannot read the dump to its end');
    expect(await filesIn(dir)).toEqual([]);
  });

  it("is not verified when the verifier's pg_restore fails: BACKUP_UNVERIFIED, nothing stored", async () => {
    const dir = join(work, 'verifier');
    const store = new DirectoryStore(dir);
    // --list works; the full read gives up after 64 kB.
    const failing = await fakePgRestore(
      work,
      `if [ "$1" = "--list" ]; then exec "${pgRestore}" "$@"; fi\nhead -c 65536 > /dev/null\necho "pg_restore: error: could not uncompress data: boom" >&2\nexit 1`,
    );
    const error = await rejection(
      takeBackup({ dbUrl: source.url, store, encryptionKey: KEY, pgRestorePath: failing }),
    );
    expect(error.code).toBe('BACKUP_UNVERIFIED');
    expect(error.message).toContain('could not uncompress data: boom');
    expect(await filesIn(dir)).toEqual([]);
  });

  it('is not verified when the table of contents lacks a table in scope', async () => {
    const dir = join(work, 'toc');
    const store = new DirectoryStore(dir);
    const listing = await fakePgRestore(
      work,
      `if [ "$1" = "--list" ]; then "${pgRestore}" "$@" | grep -v "TABLE DATA public small"; exit 0; fi\nexec "${pgRestore}" "$@"`,
    );
    const error = await rejection(takeBackup({ dbUrl: source.url, store, pgRestorePath: listing }));
    expect(error.code).toBe('BACKUP_UNVERIFIED');
    expect(error.details.missing).toEqual(['public.small']);
    expect(await filesIn(dir)).toEqual([]);
  });

  it('is not verified when the store write fails part-way: BACKUP_FAILED, the partial object removed', async () => {
    const removed: string[] = [];
    const broken: BackupStore = {
      kind: 'broken',
      async put(_key, stream) {
        let bytes = 0;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > 500_000) throw new Error('connection reset by the store');
        }
        return { location: 'nowhere' };
      },
      get: () => Promise.reject(new Error('unused')),
      list: async () => [],
      remove: async (key) => {
        removed.push(key);
      },
    };
    const error = await rejection(takeBackup({ dbUrl: source.url, store: broken, encryptionKey: KEY }));
    expect(error.code).toBe('BACKUP_FAILED');
    expect(error.message).toContain('connection reset by the store');
    expect(removed.some((key) => key.endsWith('.dump.enc'))).toBe(true);
  });

  it('is not verified when the store holds another size than was written', async () => {
    const dir = join(work, 'short');
    const inner = new DirectoryStore(dir);
    const short: BackupStore = {
      kind: 'short',
      put: (key, stream) => inner.put(key, stream),
      get: (key) => inner.get(key),
      list: () => inner.list(),
      remove: (key) => inner.remove(key),
      size: async (key) => (await inner.size(key)) - 1,
    };
    const error = await rejection(takeBackup({ dbUrl: source.url, store: short, encryptionKey: KEY }));
    expect(error.code).toBe('BACKUP_UNVERIFIED');
    expect(error.message).toMatch(/holds \d+ bytes under ".*\.dump\.enc", \d+ were written/);
    expect(await filesIn(dir)).toEqual([]);
  });
});
