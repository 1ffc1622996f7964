import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups, takeBackup } from '../src/core/backup/backup.js';
import { createBackup, fetchBackupFile, resolveScope, verifyBackup } from '../src/core/backup/dump.js';
import { BackupKey, ENCRYPTION_MAGIC } from '../src/core/backup/encryption.js';
import { type BackupManifest, targetFingerprint } from '../src/core/backup/manifest.js';
import { ArtifactStore, type BackupStore, DirectoryStore } from '../src/core/backup/stores.js';
import { apply } from '../src/core/commands/apply.js';
import { resolveConfig } from '../src/core/config.js';
import { findPgTool, libpqEnvironment, runTool } from '../src/core/db/pgtools.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { fakePgDump } from './harness/fake-tools.js';
import { demoApp } from './harness/project.js';

const KEY = BackupKey.parse(randomBytes(32).toString('hex'));

/** Every file in a folder, hidden temporary files included. */
async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** md5 of a table's rows in a stable order: equal md5, equal contents. */
async function tableDigest(db: TestDatabase, table: string): Promise<{ md5: string | null; n: number }> {
  const [row] = await db.query<{ md5: string | null; n: number }>(
    `select md5(string_agg(t::text, ',' order by t::text)) as md5, count(*)::int as n from ${table} t`,
  );
  return row ?? { md5: null, n: 0 };
}

/**
 * Restores a backup the way a rollback into a Supabase project would: decrypt to a file,
 * then pg_restore everything of the user schemas and supabase_migrations, and of the managed
 * storage schema only the rows and policies (its tables and functions belong to Supabase and
 * already exist), into a database without the user schemas' objects.
 */
async function restore(manifest: BackupManifest, store: BackupStore, target: TestDatabase): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'supagate-restore-test-'));
  try {
    const file = join(dir, 'backup.dump');
    await fetchBackupFile({
      store,
      key: manifest.location.key,
      destination: file,
      encryptionKey: KEY,
      expectedSha256: manifest.sha256,
    });
    const pgRestore = await findPgTool('pg_restore', { minMajor: 15 });
    const list = await runTool(pgRestore.path, ['--list', file], {});
    expect(list.code).toBe(0);
    const kept = list.stdout.split('\n').filter((line) => {
      const match = /^\d+; \d+ \d+ (.+)$/.exec(line);
      if (!match) return false;
      const description = match[1] as string;
      // `TABLE storage buckets postgres`, `ACL - SCHEMA storage postgres`, `FUNCTION storage …`
      const managed = /^[A-Z][A-Z ]*? (- )?(SCHEMA )?storage /.test(description);
      // Every database has a public schema; pg_dump creates it when --schema names it.
      if (description.startsWith('SCHEMA - public ')) return false;
      return !managed || /^(TABLE DATA|POLICY) storage /.test(description);
    });
    const listFile = join(dir, 'restore.list');
    await writeFile(listFile, kept.join('\n'));
    const env = libpqEnvironment(target.url);
    const result = await runTool(
      pgRestore.path,
      ['--exit-on-error', '--use-list', listFile, '--dbname', env.PGDATABASE ?? '', file],
      env,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('backups of a Supabase project', () => {
  let source: TestDatabase;
  let work: string;
  const users = [
    '00000000-0000-0000-0000-00000000000a',
    '00000000-0000-0000-0000-00000000000b',
    '00000000-0000-0000-0000-00000000000c',
  ];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'supagate-backup-test-'));
    source = await createTestDatabase();
    const applied = await apply(resolveConfig({ ...demoApp(), dbUrl: source.url, backup: 'off' }));
    expect(applied.status).toBe('applied');
    for (const [i, id] of users.entries()) {
      await source.query(`insert into auth.users (id, email) values ($1, $2)`, [id, `u${i}@example.com`]);
      await source.query(`insert into public.profiles (id, username, full_name) values ($1, $2, $3)`, [
        id,
        `user${i}`,
        `User ${i} "quoted", with comma`,
      ]);
    }
    await source.query(
      `insert into public.posts (author_id, title, body, published, tags)
       select (array[$1, $2, $3]::uuid[])[1 + g % 3], 'Post ' || g, repeat('body ', g), g % 2 = 0, array['t' || (g % 5)]
         from generate_series(1, 250) g`,
      users,
    );
    await source.query(
      `insert into public.comments (post_id, author_id, body)
       select p.id, p.author_id, 'comment on ' || p.title from public.posts p where p.published`,
    );
    await source.query(
      `insert into storage.objects (bucket_id, name, owner, metadata)
       values ('avatars', $1 || '/avatar.png', $1::uuid, '{"size": 1234}')`,
      [users[0]],
    );
  });

  afterAll(async () => {
    await source?.drop();
    await rm(work, { recursive: true, force: true });
  });

  it('takes an encrypted, verified backup that restores to identical tables', async () => {
    const dir = join(work, 'roundtrip');
    const store = new DirectoryStore(dir);
    const manifest = await takeBackup({ dbUrl: source.url, store, encryptionKey: KEY });

    expect(manifest.encryption).toBe('aes-256-gcm');
    expect(manifest.consistentSnapshot).toBe(true);
    expect(manifest.scope).toEqual({
      kind: 'data',
      schemaOnly: false,
      schemas: ['public', 'supabase_migrations'],
      tables: ['storage.buckets', 'storage.objects'],
    });
    const tables = [
      'public.comments',
      'public.posts',
      'public.profiles',
      'storage.buckets',
      'storage.objects',
      'supabase_migrations.schema_migrations',
      'supabase_migrations.supagate_audit',
    ];
    expect(manifest.verifiedTables).toEqual(tables);
    // The file on disk is ciphertext.
    const stored = await readFile(join(dir, manifest.location.key));
    expect(stored.subarray(0, ENCRYPTION_MAGIC.length).equals(ENCRYPTION_MAGIC)).toBe(true);
    expect(stored.includes(Buffer.from('PGDMP'))).toBe(false);

    const target = await createTestDatabase();
    try {
      // auth is Supabase's: a restore into the project finds its users in place.
      await target.query(
        `insert into auth.users select * from json_populate_recordset(null::auth.users, $1)`,
        [JSON.stringify(await source.query('select * from auth.users'))],
      );
      await restore(manifest, store, target);
      for (const table of tables) {
        const [before, after] = [await tableDigest(source, table), await tableDigest(target, table)];
        expect({ table, ...after }).toEqual({ table, ...before });
        expect(after.n).toBe(manifest.rowCounts[table]);
      }
      const policies = await target.query<{ n: number }>(
        `select count(*)::int as n from pg_policies where schemaname = 'storage' and tablename = 'objects'`,
      );
      expect(policies[0]?.n).toBe(2);
    } finally {
      await target.drop();
    }
  });

  it('writes a manifest with counts, RLS, hashes and no host or password', async () => {
    const dir = join(work, 'manifest');
    const store = new DirectoryStore(dir);
    const before = Date.now();
    const manifest = await takeBackup({ dbUrl: source.url, store, encryptionKey: KEY });

    expect(manifest.id).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}$/);
    expect(Date.parse(manifest.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(manifest.target.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.target.fingerprint).toBe(targetFingerprint(source.url));
    expect(manifest.serverVersion).toMatch(/^\d+\.\d+/);
    expect(Math.floor(manifest.serverVersionNum / 10_000)).toBeGreaterThanOrEqual(15);
    expect(manifest.historyVersion).toBe('20240203000000');
    expect(manifest.rowCounts).toEqual({
      'public.comments': 125,
      'public.posts': 250,
      'public.profiles': 3,
      'storage.buckets': 1,
      'storage.objects': 1,
      'supabase_migrations.schema_migrations': 6,
      'supabase_migrations.supagate_audit': 6,
    });
    expect(manifest.rls['public.profiles']).toMatchObject({ rlsEnabled: true, rlsForced: false });
    expect(manifest.rls['public.profiles']?.policies.map((p) => p.name)).toEqual([
      'Profiles are viewable by everyone',
      'Users can insert their own profile',
      'Users can update their own profile',
    ]);
    expect(manifest.rls['public.profiles']?.policies[0]).toEqual({
      name: 'Profiles are viewable by everyone',
      command: 'SELECT',
      permissive: true,
      roles: ['anon', 'authenticated'],
      using: 'true',
      withCheck: null,
    });
    expect(manifest.rls['storage.objects']?.policies).toHaveLength(2);
    // Format 2: what migrations change outside the dump, the keys that tell new rows, the schema's fingerprint.
    expect(manifest.formatVersion).toBe(2);
    // The demo app puts no trigger on Supabase's tables (restore-exact.pg.test.ts has those).
    expect(manifest.managed?.triggers).toEqual([]);
    expect(manifest.managed?.extensions.map((e) => e.name)).toContain('plpgsql');
    expect(manifest.tableKeys?.['public.posts']).toEqual({ column: 'id', max: expect.any(String) });
    expect(manifest.schemaFingerprint).toMatch(/^[0-9a-f]{64}$/);

    const path = join(dir, manifest.location.key);
    expect(manifest.location).toEqual({ store: 'directory', key: manifest.location.key, location: path });
    expect(manifest.location.key).toBe(`${manifest.id}.dump.enc`);
    expect(manifest.sizeBytes).toBe((await readFile(path)).length);
    expect(manifest.sha256).toBe(await sha256File(path));
    expect(manifest.tool.pgDump).toMatch(/pg_dump \(PostgreSQL\) \d+/);

    const text = await readFile(join(dir, `${manifest.id}.manifest.json`), 'utf8');
    expect(JSON.parse(text)).toEqual(manifest);
    const url = new URL(source.url);
    expect(text).not.toContain(url.hostname);
    expect(text).not.toContain(decodeURIComponent(url.password));
    expect(text).not.toContain(source.name);
    expect(text).not.toContain('postgresql://');
    expect(await filesIn(dir)).toEqual([`${manifest.id}.dump.enc`, `${manifest.id}.manifest.json`]);
  });

  it('fails with BACKUP_FAILED and stores nothing when pg_dump exits non-zero', async () => {
    const dir = join(work, 'failing');
    const store = new DirectoryStore(dir);
    const pgDumpPath = await fakePgDump(
      work,
      `printf 'PGDMP partial output'\necho "pg_dump: error: connection failed for password $PGPASSWORD: boom" >&2\nexit 1`,
    );
    const error = await rejection(takeBackup({ dbUrl: source.url, store, encryptionKey: KEY, pgDumpPath }));
    expect(error.code).toBe('BACKUP_FAILED');
    expect(error.message).toContain('exited with code 1');
    expect(error.message).toContain('boom');
    const password = decodeURIComponent(new URL(source.url).password);
    if (password) expect(error.message).not.toContain(password);
    expect(await store.list()).toEqual([]);
    expect(await filesIn(dir)).toEqual([]);
  });

  it('fails with BACKUP_FAILED and stores nothing when pg_dump cannot connect', async () => {
    const dir = join(work, 'bogus');
    const store = new DirectoryStore(dir);
    const url = new URL(source.url);
    url.password = 'wrong-password-123';
    const connection = new pg.Client({ connectionString: source.url });
    await connection.connect();
    const selection = await resolveScope(connection, 'data').finally(() => connection.end());
    const error = await rejection(
      createBackup({
        dbUrl: url.toString(),
        selection,
        pgDump: await findPgTool('pg_dump', { minMajor: 15 }),
        store,
        key: 'bogus.dump',
      }),
    );
    expect(error.code).toBe('BACKUP_FAILED');
    expect(error.message).toMatch(/pg_dump exited with code 1: .*password authentication failed/);
    expect(error.message).not.toContain('wrong-password-123');
    expect(await filesIn(dir)).toEqual([]);
  });

  it('fails with BACKUP_FAILED when pg_dump is cancelled or killed, and stores nothing', async () => {
    const dir = join(work, 'killed');
    const store = new DirectoryStore(dir);
    const sleeping = await fakePgDump(work, `printf 'PGDMP'\nexec sleep 30`);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const cancelled = await rejection(
      takeBackup({
        dbUrl: source.url,
        store,
        encryptionKey: KEY,
        pgDumpPath: sleeping,
        signal: controller.signal,
      }),
    );
    expect(cancelled.code).toBe('BACKUP_FAILED');
    expect(cancelled.message).toMatch(/cancelled/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await filesIn(dir)).toEqual([]);

    const killed = await fakePgDump(work, `printf 'PGDMP some bytes'\nkill -9 $$`);
    const error = await rejection(takeBackup({ dbUrl: source.url, store, pgDumpPath: killed }));
    expect(error.code).toBe('BACKUP_FAILED');
    expect(error.message).toContain('killed by SIGKILL');
    expect(await filesIn(dir)).toEqual([]);
  });

  it('fails with BACKUP_FAILED, killing pg_dump, when the store fails', async () => {
    let removed = false;
    const broken: BackupStore = {
      kind: 'broken',
      async put(_key, stream) {
        for await (const _chunk of stream) throw new Error('disk full');
        throw new Error('no data');
      },
      get: () => Promise.reject(new Error('unused')),
      list: async () => [],
      remove: async () => {
        removed = true;
      },
    };
    const error = await rejection(takeBackup({ dbUrl: source.url, store: broken, encryptionKey: KEY }));
    expect(error.code).toBe('BACKUP_FAILED');
    expect(error.message).toContain('disk full');
    expect(removed).toBe(true);
  });

  it('verifyBackup finds a table the dump lacks', async () => {
    const store = new DirectoryStore(join(work, 'partial'));
    const partial = await takeBackup({
      dbUrl: source.url,
      store,
      encryptionKey: KEY,
      scope: { tables: ['public.posts'] },
    });
    expect(partial.scope).toEqual({
      kind: 'named',
      schemaOnly: false,
      schemas: [],
      tables: ['public.posts'],
    });
    expect(partial.verifiedTables).toEqual(['public.posts']);
    expect(Object.keys(partial.rowCounts)).toEqual(['public.posts']);

    const client = new pg.Client({ connectionString: source.url });
    await client.connect();
    const full = await resolveScope(client, 'data').finally(() => client.end());
    const error = await rejection(
      verifyBackup({
        store,
        key: partial.location.key,
        encryptionKey: KEY,
        expectedTables: full.expectedTables,
        schemaOnly: false,
        pgRestore: await findPgTool('pg_restore', { minMajor: 15 }),
      }),
    );
    expect(error.code).toBe('BACKUP_UNVERIFIED');
    expect(error.details.missing).toEqual([
      'public.comments',
      'public.profiles',
      'storage.buckets',
      'storage.objects',
      'supabase_migrations.schema_migrations',
      'supabase_migrations.supagate_audit',
    ]);

    // A damaged stored file is caught too.
    const path = join(store.dir, partial.location.key);
    const bytes = await readFile(path);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] as number) ^ 1;
    await writeFile(path, bytes);
    const damaged = await rejection(
      verifyBackup({
        store,
        key: partial.location.key,
        encryptionKey: KEY,
        expectedTables: [],
        schemaOnly: false,
        pgRestore: await findPgTool('pg_restore', { minMajor: 15 }),
      }),
    );
    expect(damaged.code).toBe('BACKUP_DECRYPT_FAILED');
  });

  it('refuses a scope naming what does not exist', async () => {
    const store = new DirectoryStore(join(work, 'scope'));
    const error = await rejection(
      takeBackup({ dbUrl: source.url, store, scope: { tables: ['public.nope'] } }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('public.nope');
  });

  it('lists backups newest first, skipping what is not a manifest', async () => {
    const dir = join(work, 'list');
    const store = new DirectoryStore(dir);
    const days = ['2024-03-02T10:00:00Z', '2024-03-01T10:00:00Z', '2024-03-03T10:00:00Z'];
    const taken: BackupManifest[] = [];
    for (const [i, day] of days.entries()) {
      taken.push(
        await takeBackup({
          dbUrl: source.url,
          store,
          scope: i === 0 ? 'schema' : { schemas: ['public'] },
          historyVersion: `v${i}`,
          now: () => new Date(day),
        }),
      );
    }
    await store.put('notes.txt', Readable.from([Buffer.from('not a backup')]));
    await store.put('broken.manifest.json', Readable.from([Buffer.from('{')]));
    const invalid: string[] = [];
    const listed = await listBackups(store, { onInvalid: (key) => invalid.push(key) });
    expect(listed.map((m) => m.historyVersion)).toEqual(['v2', 'v0', 'v1']);
    expect(listed.map((m) => m.id)).toEqual([taken[2]?.id, taken[0]?.id, taken[1]?.id]);
    expect(listed[0]?.id.startsWith('20240303T100000000Z-')).toBe(true);
    expect(invalid).toEqual(['broken.manifest.json']);

    // Unencrypted backups are plain pg_dump archives; a schema-only one holds no rows.
    const schemaOnly = taken[0] as BackupManifest;
    expect(schemaOnly.encryption).toBe('none');
    expect(schemaOnly.scope.schemaOnly).toBe(true);
    expect(schemaOnly.verifiedTables).toContain('public.posts');
    const plain = await readFile(join(dir, schemaOnly.location.key));
    expect(plain.subarray(0, 5).toString()).toBe('PGDMP');
    expect(schemaOnly.location.key).toBe(`${schemaOnly.id}.dump`);
  });

  it('refuses to put an unencrypted backup into GitHub artifacts', async () => {
    const uploads: { name: string; head: string }[] = [];
    const uploader = async (name: string, filePath: string) => {
      uploads.push({ name, head: (await readFile(filePath)).subarray(0, 13).toString('latin1') });
      return { location: `artifact:${name}` };
    };
    const staging = join(work, 'artifacts');
    const store = new ArtifactStore(uploader, { stagingDir: staging });
    const refused = await rejection(takeBackup({ dbUrl: source.url, store, scope: 'schema' }));
    expect(refused.code).toBe('BACKUP_UNENCRYPTED_ARTIFACT');
    expect(uploads).toEqual([]);
    const direct = await rejection(store.put('x.dump', Readable.from([Buffer.from('PGDMP plain rows')])));
    expect(direct.code).toBe('BACKUP_UNENCRYPTED_ARTIFACT');
    expect(direct.message).toMatch(/read access/);
    expect(uploads).toEqual([]);
    expect(await filesIn(staging)).toEqual([]);

    const manifest = await takeBackup({ dbUrl: source.url, store, scope: 'schema', encryptionKey: KEY });
    expect(uploads).toEqual([
      { name: `${manifest.id}.dump.enc`, head: 'SUPAGATE-ENC1' },
      { name: `${manifest.id}.manifest.json`, head: expect.stringMatching(/^\{/) },
    ]);
    expect(manifest.location).toMatchObject({
      store: 'github-artifact',
      location: `artifact:${manifest.id}.dump.enc`,
    });

    const allowing = new ArtifactStore(uploader, {
      allowUnencrypted: true,
      stagingDir: join(work, 'artifacts2'),
    });
    await allowing.put('y.dump', Readable.from([Buffer.from('PGDMP plain rows')]));
    expect(uploads.at(-1)).toEqual({ name: 'y.dump', head: 'PGDMP plain r' });
  });
});
