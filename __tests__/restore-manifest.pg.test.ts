import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { takeBackup } from '../src/core/backup/backup.js';
import { parseManifest } from '../src/core/backup/manifest.js';
import { DirectoryStore } from '../src/core/backup/stores.js';
import { apply } from '../src/core/commands/apply.js';
import { rollbackToBackup } from '../src/core/commands/rollback.js';
import { restoreBackup } from '../src/core/restore/index.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { exactState } from './harness/exact.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import { createProject, migrations } from './harness/project.js';
import { type RoundTrip, roundTrip, withoutAudit } from './harness/round-trip.js';

let db: TestDatabase;
let trip: RoundTrip | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  trip = undefined;
});
afterEach(async () => {
  await trip?.cleanup();
  await db.drop();
});

describe('backup manifests of earlier versions', () => {
  it('a format-1 manifest (no managed state, keys or fingerprint) still restores', async () => {
    trip = await roundTrip(db, {
      existing: { '1_items': 'create table public.items (id int primary key, name text);' },
      seed: `insert into public.items values (1, 'a'), (2, 'b');`,
      underTest: {
        '2_more': `alter table public.items add column price numeric;\ninsert into public.items values (3, 'c', 1);`,
      },
    });
    const dir = trip.config().backupDir;
    const key = `${trip.backupId}.manifest.json`;
    expect(await readdir(dir)).toContain(key);
    const manifest = JSON.parse(await readFile(join(dir, key), 'utf8'));
    const { managed: _m, tableKeys: _k, schemaFingerprint: _f, ...older } = manifest;
    await writeFile(join(dir, key), JSON.stringify({ ...older, formatVersion: 1 }));

    // Apply again, then restore with the old manifest.
    const before = await exactState(db);
    expect((await apply(trip.config())).status).toBe('applied');
    const result = await rollbackToBackup(trip.config(), {
      backupId: trip.backupId,
      confirm: db.name,
      discardWritesSinceBackup: true,
    });
    expect(result.status).toBe('rolled-back');
    expect(result.restore?.schema).toBe('not-recorded');
    expect(withoutAudit(await exactState(db), true)).toEqual(withoutAudit(before, true));
  });

  it('refuses a manifest of an unknown format, naming it', () => {
    const error = (() => {
      try {
        parseManifest(
          JSON.stringify({ formatVersion: 3, id: 'x', sha256: 'y', location: { key: 'z' } }),
          'x.manifest.json',
        );
      } catch (caught) {
        return caught as { code: string; message: string };
      }
      return undefined;
    })();
    expect(error?.code).toBe('BACKUP_STORE_FAILED');
    expect(error?.message).toContain('x.manifest.json');
  });

  it('an unrestorable dependent is refused before anything changes, with a fix that works', async () => {
    trip = await roundTrip(db, {
      existing: {
        '1_admin': `create function public.is_admin() returns boolean language sql stable set search_path = '' as $$ select false $$;`,
      },
      underTest: { '2_t': 'create table public.t (id int primary key);' },
    });
    await db.query(
      `create policy "Admins read users" on auth.users for select using ((select public.is_admin()))`,
    );
    const before = await exactState(db);
    const refused = await rejection(
      rollbackToBackup(trip.config(), { backupId: trip.backupId, confirm: db.name }),
    );
    expect(refused.code).toBe('RESTORE_UNSAFE');
    expect(refused.message).toContain('policy Admins read users on table auth.users');
    expect(refused.hint).toContain('DROP POLICY "Admins read users" ON auth.users');
    expect(refused.hint).toContain('CREATE POLICY "Admins read users" ON auth.users');
    expect(await exactState(db)).toEqual(before);

    // The fix the hint gives works.
    const [drop, create] = (refused.details.fix as string[]) ?? [];
    await db.query(drop as string);
    const restored = await rollbackToBackup(trip.config(), { backupId: trip.backupId, confirm: db.name });
    expect(restored.status).toBe('rolled-back');
    await db.query(create as string);
    expect(await db.query(`select policyname from pg_policies where tablename = 'users'`)).toEqual([
      { policyname: 'Admins read users' },
    ]);
  });
});

describe('the proof before COMMIT', () => {
  it('a restored schema or count that differs from the manifest rolls everything back', async () => {
    trip = await roundTrip(db, {
      existing: { '1_items': 'create table public.items (id int primary key);' },
      seed: 'insert into public.items values (1), (2);',
      underTest: { '2_more': 'create table public.more (id int primary key);' },
    });
    const dir = trip.config().backupDir;
    const key = `${trip.backupId}.manifest.json`;
    const original = await readFile(join(dir, key), 'utf8');
    expect((await apply(trip.config())).status).toBe('applied');
    const before = await exactState(db);

    await writeFile(
      join(dir, key),
      JSON.stringify({ ...JSON.parse(original), schemaFingerprint: '0'.repeat(64) }),
    );
    const schema = await rejection(
      rollbackToBackup(trip.config(), { backupId: trip.backupId, confirm: db.name }),
    );
    expect(schema.code).toBe('RESTORE_FAILED');
    expect(schema.message).toContain('the schema differs from the one the backup recorded');
    expect(schema.hint).toContain('Nothing was changed');
    expect(withoutAudit(await exactState(db), true)).toEqual(withoutAudit(before, true));

    const counts = JSON.parse(original);
    counts.rowCounts['public.items'] = 3;
    await writeFile(join(dir, key), JSON.stringify(counts));
    const rows = await rejection(
      rollbackToBackup(trip.config(), { backupId: trip.backupId, confirm: db.name }),
    );
    expect(rows.code).toBe('RESTORE_FAILED');
    expect(rows.message).toContain('public.items has 2 rows, the backup 3');
    expect(withoutAudit(await exactState(db), true)).toEqual(withoutAudit(before, true));
  });
});

describe('extensions updated since the backup', () => {
  it('are set back (ALTER EXTENSION UPDATE); without a script back, the restore says so and changes nothing', async () => {
    const project = await createProject(
      migrations({ '1_trgm': "create extension pg_trgm with schema extensions version '1.5';" }),
    );
    const backupDir = await mkdtemp(join(tmpdir(), 'supagate-backups-'));
    try {
      const config = project.config(db.url, {
        ...GATE_NEUTRAL,
        backup: 'on',
        backupDir,
        backupKey: 'e'.repeat(64),
      });
      expect((await apply({ ...config, backup: 'off' })).status).toBe('applied');
      await project.write('supabase/migrations/2_t.sql', 'create table public.t (id int primary key);');
      const applied = await apply(config);
      const backupId = applied.backup.status === 'taken' ? applied.backup.id : '';
      // As the owner would (a migration runs as a role that does not own it on the plan's shadow).
      await db.query("alter extension pg_trgm update to '1.6'");
      const dry = await rollbackToBackup(config, { backupId, dryRun: true });
      expect(dry.restore?.steps).toContain('Set extension pg_trgm back from 1.6 to 1.5');
      const before = await exactState(db);
      const refused = await rejection(rollbackToBackup(config, { backupId, confirm: db.name }));
      expect(refused.code).toBe('RESTORE_FAILED');
      expect(refused.message).toContain('setting extension pg_trgm back to version 1.5');
      expect(withoutAudit(await exactState(db), true)).toEqual(withoutAudit(before, true));
    } finally {
      await project.cleanup();
      await rm(backupDir, { recursive: true, force: true });
    }
  });
});

describe('a backup of named schemas', () => {
  it('restores those schemas only: the history, other schemas and their rows stay', async () => {
    const project = await createProject(
      migrations({
        '1_a':
          'create table public.a (id int primary key);\ncreate schema other;\ncreate table other.b (id int);',
      }),
    );
    const dir = await mkdtemp(join(tmpdir(), 'supagate-backups-'));
    try {
      expect((await apply(project.config(db.url, GATE_NEUTRAL))).status).toBe('applied');
      const store = new DirectoryStore(dir);
      const manifest = await takeBackup({ dbUrl: db.url, store, scope: { schemas: ['public'] } });
      await db.query(`insert into public.a values (1); insert into other.b values (1);
        insert into supabase_migrations.schema_migrations (version, name) values ('2', 'by hand')`);
      const history = await db.query('select version from supabase_migrations.schema_migrations order by 1');
      const result = await restoreBackup({ dbUrl: db.url, store, manifest, discardWritesSinceBackup: true });
      expect(result.ok).toBe(true);
      expect(result.schemasDropped).toEqual([]);
      expect(await db.query('select count(*)::int as n from public.a')).toEqual([{ n: 0 }]);
      expect(await db.query('select count(*)::int as n from other.b')).toEqual([{ n: 1 }]);
      expect(await db.query('select version from supabase_migrations.schema_migrations order by 1')).toEqual(
        history,
      );
    } finally {
      await project.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
