import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeBackup } from '../src/core/backup/backup.js';
import type { BackupManifest } from '../src/core/backup/manifest.js';
import { DirectoryStore } from '../src/core/backup/stores.js';
import { apply } from '../src/core/commands/apply.js';
import { resolveConfig } from '../src/core/config.js';
import { findPgTool } from '../src/core/db/pgtools.js';
import { restoreBackup } from '../src/core/restore/index.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { demoApp } from './harness/project.js';

/** A hex key, as the backup-key secret holds it. */
const SECRET = randomBytes(32).toString('hex');
const USERS = [
  '00000000-0000-0000-0000-00000000000a',
  '00000000-0000-0000-0000-00000000000b',
  '00000000-0000-0000-0000-00000000000c',
];

/** The demo app applied, with users, profiles, posts, comments and an uploaded avatar. */
async function project(databases: TestDatabase[]): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  const applied = await apply(resolveConfig({ ...demoApp(), dbUrl: db.url, backup: 'off' }));
  expect(applied.status).toBe('applied');
  for (const [i, id] of USERS.entries()) {
    await db.query(`insert into auth.users (id, email) values ($1, $2)`, [id, `u${i}@example.com`]);
    await db.query(`insert into public.profiles (id, username, full_name) values ($1, $2, $3)`, [
      id,
      `user${i}`,
      `User ${i} "quoted", with comma\tand tab`,
    ]);
  }
  await db.query(
    `insert into public.posts (author_id, title, body, published, tags)
     select (array[$1, $2, $3]::uuid[])[1 + g % 3], 'Post ' || g, repeat(E'body \\\\ ', g), g % 2 = 0, array['t' || (g % 5)]
       from generate_series(1, 250) g`,
    USERS,
  );
  await db.query(
    `insert into public.comments (post_id, author_id, body)
     select p.id, p.author_id, 'comment on ' || p.title from public.posts p where p.published`,
  );
  await db.query(
    `insert into storage.objects (bucket_id, name, owner, metadata)
     values ('avatars', $1 || '/avatar.png', $1::uuid, '{"size": 1234}')`,
    [USERS[0]],
  );
  return db;
}

/** md5 of each table's rows in a stable order: equal md5, equal contents. */
async function digests(db: TestDatabase, tables: string[]): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of [...tables].sort()) {
    const [exists] = await db.query<{ found: boolean }>(`select to_regclass($1) is not null as found`, [
      table,
    ]);
    if (!exists?.found) {
      result[table] = 'missing';
      continue;
    }
    const [row] = await db.query<{ digest: string }>(
      `select count(*) || ':' || coalesce(md5(string_agg(t::text, ',' order by t::text)), '') as digest from ${table} t`,
    );
    result[table] = row?.digest ?? '';
  }
  return result;
}

/**
 * What a restore must leave as the backup had it, beyond rows: the privileges of schema public
 * (Supabase's grants to anon/authenticated/service_role), default privileges, table and function
 * grants, RLS switches, policies with their expressions, triggers, publications, extensions.
 */
async function privileges(db: TestDatabase): Promise<unknown> {
  const [row] = await db.query<{ state: unknown }>(
    `select json_build_object(
       'schema', (select json_build_object('owner', nspowner::regrole::text, 'acl', nspacl::text,
                                           'comment', obj_description(oid, 'pg_namespace'))
                    from pg_namespace where nspname = 'public'),
       'defaults', (select json_agg(format('%s/%s/%s/%s', defaclrole::regrole, defaclnamespace::regnamespace, defaclobjtype, defaclacl)
                                    order by format('%s/%s/%s/%s', defaclrole::regrole, defaclnamespace::regnamespace, defaclobjtype, defaclacl))
                      from pg_default_acl),
       'relations', (select json_agg(format('%s:%s:%s:%s', c.oid::regclass, c.relacl, c.relrowsecurity, c.relforcerowsecurity)
                                     order by c.oid::regclass::text)
                       from pg_class c
                      where c.relnamespace in ('public'::regnamespace, 'storage'::regnamespace, 'supabase_migrations'::regnamespace)
                        and c.relkind in ('r', 'p', 'v', 'm', 'S')),
       'functions', (select json_agg(format('%s:%s', p.oid::regprocedure, p.proacl) order by p.oid::regprocedure::text)
                       from pg_proc p where p.pronamespace = 'public'::regnamespace),
       'policies', (select json_agg(format('%s.%s %s %s %s %s %s', schemaname, tablename, policyname, cmd, roles, qual, with_check)
                                    order by format('%s.%s %s', schemaname, tablename, policyname))
                      from pg_policies),
       'triggers', (select json_agg(pg_get_triggerdef(oid) || ' ' || tgenabled::text order by pg_get_triggerdef(oid))
                      from pg_trigger where not tgisinternal),
       'publications', (select json_agg(format('%s %s.%s', pubname, schemaname, tablename) order by 1)
                          from pg_publication_tables),
       'extensions', (select json_agg(format('%s %s', extname, extnamespace::regnamespace) order by extname)
                        from pg_extension)
     ) as state`,
  );
  return row?.state;
}

const AUDIT = 'supabase_migrations.supagate_audit';

/** Everything but the audit trail, which is append-only: a restore keeps it and adds to it. */
async function state(db: TestDatabase, tables: string[]): Promise<unknown> {
  const catalog = (await snapshot(db)) as Record<string, unknown>;
  const restorable = tables.filter((table) => table !== AUDIT);
  return {
    catalog: { ...catalog, audit: undefined },
    rows: await digests(db, restorable),
    privileges: await privileges(db),
  };
}

describe('restoring a backup', () => {
  let work: string;
  const databases: TestDatabase[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'supagate-restore-test-'));
  });

  afterAll(async () => {
    for (const db of databases) await db.drop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  });

  it('puts the schemas back as the backup had them, with Supabase grants, extensions and dependents intact', async () => {
    const db = await project(databases);
    // An extension living in public, a storage policy and an auth.users trigger using public functions.
    await db.query(`create extension pg_trgm with schema public`);
    await db.query(`create index posts_title_trgm_idx on public.posts using gin (title public.gin_trgm_ops)`);
    await db.query(
      `create function public.is_admin() returns boolean language sql stable
         as $$ select coalesce(auth.jwt() ->> 'role' = 'admin', false) $$`,
    );
    await db.query(
      `create policy "Admins manage avatars" on storage.objects for all to authenticated
         using ((select public.is_admin())) with check ((select public.is_admin()))`,
    );
    await db.query(
      `create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = ''
         as $$ begin insert into public.profiles (id, username) values (new.id, new.email); return new; end $$`,
    );
    await db.query(
      `create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user()`,
    );
    await db.query(`create table public.categories (id int primary key, name text not null)`);
    await db.query(`insert into public.categories select g, 'category ' || g from generate_series(1, 30) g`);
    // Enough rows for COPY to stream in several chunks.
    await db.query(
      `insert into public.comments (post_id, author_id, body)
       select p.id, p.author_id, 'bulk ' || g || ' ' || repeat('x', g % 200)
         from public.posts p cross join generate_series(1, 160) g where p.published`,
    );
    const store = new DirectoryStore(join(work, 'main'));
    const manifest = await takeBackup({ dbUrl: db.url, store, encryptionKey: SECRET });
    const tables = Object.keys(manifest.rowCounts);
    expect(tables).toContain('supabase_migrations.schema_migrations');
    expect(tables).toContain('storage.buckets');
    const before = await state(db, tables);

    // A migration that went wrong, and what came after it.
    await db.query(`
      alter table public.posts drop column body;
      delete from public.comments where id % 2 = 0;
      update public.profiles set full_name = 'changed';
      drop table public.categories;
      create table public.bad_new (id int primary key);
      insert into public.bad_new values (1);
      create view public.bad_view as select id from public.posts;
      drop policy "Profiles are viewable by everyone" on public.profiles;
      alter table public.posts disable row level security;
      alter table public.comments force row level security;
      insert into storage.buckets (id, name) values ('bad', 'bad');
      drop policy "Avatar images are publicly accessible" on storage.objects;
      create policy "Everyone uploads" on storage.objects for insert to anon with check (true);
      insert into supabase_migrations.schema_migrations (version, name) values ('20990101000000', 'bad');
      revoke usage on schema public from authenticated;
      grant create on schema public to anon;
      alter default privileges for role postgres in schema public revoke all on tables from anon;
      comment on schema public is 'changed';
      revoke select on public.profiles from anon;
    `);
    expect(await state(db, tables)).not.toEqual(before);

    const refused = await rejection(restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: SECRET }));
    expect(refused.code).toBe('RESTORE_WOULD_LOSE_WRITES');
    expect(refused.message).toContain('public.bad_new: 1 rows (table created after the backup)');
    expect(await state(db, tables)).not.toEqual(before);
    const result = await restoreBackup({
      dbUrl: db.url,
      store,
      manifest,
      encryptionKey: SECRET,
      discardWritesSinceBackup: true,
    });

    expect(result.ok).toBe(true);
    expect(result.schema).toBe('matches');
    expect(result.writesSinceBackup.map((w) => [w.table, w.newRows, w.by])).toEqual([
      ['public.bad_new', 1, 'new table'],
      ['storage.buckets', 1, 'count'],
    ]);
    expect(result.backupId).toBe(manifest.id);
    expect(result.historyRestored).toBe(true);
    expect(result.schemas).toEqual(['public', 'supabase_migrations']);
    const restorable = tables.filter((table) => table !== AUDIT).sort();
    expect(result.tables).toEqual(restorable);
    expect(result.counts.every((c) => c.ok)).toBe(true);
    expect(result.counts.map((c) => c.table)).toEqual(restorable);
    expect(result.rls.every((r) => r.ok && r.differences.length === 0)).toBe(true);
    expect(result.rls.map((r) => r.table)).toContain('storage.objects');
    // Every row, definition, grant, default privilege, policy and trigger as in the backup.
    expect(await state(db, tables)).toEqual(before);
    expect((await db.query(`select to_regclass('public.bad_new') as t`))[0]?.t).toBeNull();
    expect(await db.query(`select count(*)::int as n from public.categories`)).toEqual([{ n: 30 }]);
    expect(
      await db.query(
        `select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'comments'`,
      ),
    ).toHaveLength(1);

    const steps = result.steps.join('\n');
    expect(steps).toMatch(
      /Drop the \d+ objects of schema supabase_migrations \(table supabase_migrations\.schema_migrations\)/,
    );
    expect(steps).toMatch(
      /Drop the \d+ objects of schema public .*keeping the schema itself and the extensions in it \(pg_trgm\)/,
    );
    expect(steps).toContain('Drop policy "Everyone uploads" on storage.objects (not in the backup)');
    expect(steps).toContain(
      'Drop policy "Admins manage avatars" on storage.objects (it depends on objects the restore replaces)',
    );
    expect(steps).toContain('Delete the rows of storage.objects, storage.buckets');
    expect(steps).toContain('Create trigger on_auth_user_created on auth.users as the backup recorded it');
    expect(steps).toContain('Add public.comments to publication supabase_realtime, as in the backup');
    expect(result.steps.at(-1)).toBe('Commit');

    // The re-created trigger works: a new user gets a profile.
    await db.query(
      `insert into auth.users (id, email) values ('00000000-0000-0000-0000-0000000000ff', 'new@example.com')`,
    );
    expect(
      await db.query(
        `select username from public.profiles where id = '00000000-0000-0000-0000-0000000000ff'`,
      ),
    ).toEqual([{ username: 'new@example.com' }]);
  });

  it('puts back the Realtime Authorization policies on realtime.messages as the backup recorded them', async () => {
    const db = await project(databases);
    await db.query(
      `create function public.is_member(topic text) returns boolean language sql stable as $$ select topic like 'room:%' $$`,
    );
    await db.query(
      `create policy "members listen" on realtime.messages for select to authenticated
         using ((select public.is_member(realtime.topic())))`,
    );
    const store = new DirectoryStore(join(work, 'realtime'));
    const manifest = await takeBackup({ dbUrl: db.url, store, encryptionKey: SECRET });
    expect(manifest.rls['realtime.messages']?.policies.map((p) => p.name)).toEqual(['members listen']);
    expect(manifest.rowCounts).not.toHaveProperty(['realtime.messages']);
    const policies = () =>
      db.query(
        `select policyname, cmd, roles::text, qual, with_check from pg_policies where schemaname = 'realtime' order by 1`,
      );
    const before = await policies();

    // After the backup: a channel opened to anyone, and the members' policy changed.
    await db.query(`
      drop policy "members listen" on realtime.messages;
      create policy "members listen" on realtime.messages for select to authenticated using (true);
      create policy "anyone broadcasts" on realtime.messages for insert to anon with check (true);`);
    const result = await restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: SECRET });
    expect(result.ok).toBe(true);
    expect(await policies()).toEqual(before);
    expect(result.rls.find((r) => r.table === 'realtime.messages')).toMatchObject({ ok: true });
    expect(result.steps).toContain(
      'Put back the policies of realtime.messages as the backup recorded them: drop the 2 current ones, create 1 policy after the restore',
    );

    // A target without Realtime: nothing to put back, and nothing to compare.
    await db.query('drop table realtime.messages');
    const withoutRealtime = await restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: SECRET });
    expect(withoutRealtime.ok).toBe(true);
    expect(withoutRealtime.steps).toContain(
      "realtime.messages does not exist here: the backup's 1 policy for it cannot be put back",
    );
  });

  it('puts back the publication memberships the backup recorded, also of a table dropped since', async () => {
    const db = await project(databases);
    const store = new DirectoryStore(join(work, 'publications'));
    const manifest = await takeBackup({ dbUrl: db.url, store, encryptionKey: SECRET });
    expect(manifest.publications).toContainEqual(
      expect.objectContaining({ publication: 'supabase_realtime', table: 'public.comments' }),
    );
    const realtime = () =>
      db.query(
        `select schemaname || '.' || tablename as t from pg_publication_tables where pubname = 'supabase_realtime' order by 1`,
      );
    const before = await realtime();

    // A bad migration: comments dropped (and with them their realtime membership), profiles published.
    await db.query(`drop table public.comments;
      alter publication supabase_realtime add table public.profiles;`);
    expect(await realtime()).not.toEqual(before);
    const result = await restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: SECRET });
    expect(result.ok).toBe(true);
    expect(await realtime()).toEqual(before);
  });

  it('leaves the database exactly as it was when a statement fails half-way', async () => {
    const db = await project(databases);
    const role = `restore_test_${randomBytes(4).toString('hex')}`;
    await db.query(`create role ${role} nologin`);
    await db.query(`grant select on public.posts to ${role}`);
    const store = new DirectoryStore(join(work, 'failing'));
    const manifest = await takeBackup({ dbUrl: db.url, store, encryptionKey: SECRET });
    const tables = Object.keys(manifest.rowCounts);
    await db.query(`
      alter table public.posts drop column body;
      delete from public.comments;
      create table public.bad_new (id int);
      insert into supabase_migrations.schema_migrations (version, name) values ('20990101000000', 'bad');
    `);
    // The dump grants to a role that no longer exists: its ACL entry, near the end, fails.
    await db.query(`revoke select on public.posts from ${role}; drop role ${role}`);
    const before = await state(db, tables);

    const error = await rejection(restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: SECRET }));
    expect(error.code).toBe('RESTORE_FAILED');
    expect(error.message).toContain(`role "${role}" does not exist`);
    expect(error.message).toContain('ACL TABLE posts in schema public');
    expect(error.details.statement).toMatch(/^GRANT /);
    expect(error.hint).toMatch(/Nothing was changed/);
    expect(await state(db, tables)).toEqual(before);

    // Rows the server rejects in the middle of a COPY: a column added to storage.objects since.
    await db.query(`alter table storage.objects add column must_have text not null default 'x'`);
    await db.query(`alter table storage.objects alter column must_have drop default`);
    const beforeCopy = await state(db, tables);
    const copy = await rejection(restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: SECRET }));
    expect(copy.code).toBe('RESTORE_FAILED');
    expect(copy.message).toContain('restoring the rows of TABLE DATA objects in schema storage');
    expect(copy.message).toContain('null value in column "must_have"');
    expect(await state(db, tables)).toEqual(beforeCopy);
  });

  it('leaves the database exactly as it was when pg_restore dies in the middle of the rows', async () => {
    const db = await project(databases);
    const store = new DirectoryStore(join(work, 'dying'));
    const manifest = await takeBackup({ dbUrl: db.url, store, encryptionKey: SECRET });
    const tables = Object.keys(manifest.rowCounts);
    await db.query(`delete from public.comments; create table public.bad_new (id int);`);
    const before = await state(db, tables);

    const real = await findPgTool('pg_restore', { minMajor: 15 });
    const fake = join(work, `pg_restore-${randomBytes(4).toString('hex')}`);
    await writeFile(
      fake,
      `#!/bin/sh
case "$*" in
  *--file=-*) "${real.path}" "$@" | awk '/^COPY public.posts /{n=1} n{c++} c>20{exit} {print}'; echo "pg_restore: error: out of memory" >&2; exit 1;;
  *) exec "${real.path}" "$@";;
esac
`,
    );
    await chmod(fake, 0o755);

    const error = await rejection(
      restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: SECRET, pgRestorePath: fake }),
    );
    expect(error.code).toBe('RESTORE_FAILED');
    expect(error.message).toMatch(
      /pg_restore exited with code 1 after \d+ entries: pg_restore: error: out of memory/,
    );
    expect(await state(db, tables)).toEqual(before);
  });

  it('refuses with RESTORE_UNSAFE, changing nothing, when objects outside the backup depend on what it replaces', async () => {
    const db = await project(databases);
    await db.query(
      `create function public.is_admin() returns boolean language sql stable
         as $$ select coalesce(auth.jwt() ->> 'role' = 'admin', false) $$`,
    );
    const store = new DirectoryStore(join(work, 'unsafe'));
    const manifest = await takeBackup({ dbUrl: db.url, store, encryptionKey: SECRET });
    const tables = Object.keys(manifest.rowCounts);
    await db.query(`
      create schema api;
      create view api.post_titles as select id, title from public.posts;
      create policy "Admins read users" on auth.users for select using ((select public.is_admin()));
      create function public.audit_signup() returns trigger language plpgsql as $$ begin return new; end $$;
      create trigger audit_signup after insert on auth.users for each row execute function public.audit_signup();
    `);
    const before = await state(db, tables);

    for (const dryRun of [true, false]) {
      const error = await rejection(
        restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: SECRET, dryRun }),
      );
      expect(error.code).toBe('RESTORE_UNSAFE');
      // Schema api and the trigger were created after the backup: they go. The policy is not recorded.
      expect(error.details.dependents).toEqual(['policy Admins read users on table auth.users']);
      expect(error.message).toContain('policy Admins read users on table auth.users');
      expect(await state(db, tables)).toEqual(before);
    }
  });

  it('fails with BACKUP_DECRYPT_FAILED on a wrong or missing key, and refuses another database without the flag', async () => {
    const db = await project(databases);
    const store = new DirectoryStore(join(work, 'keys'));
    const manifest: BackupManifest = await takeBackup({ dbUrl: db.url, store, encryptionKey: SECRET });
    const tables = Object.keys(manifest.rowCounts);
    const rowsAtBackup = await digests(db, tables);
    await db.query(`delete from public.comments; create table public.bad_new (id int);`);
    const before = await state(db, tables);

    const wrong = await rejection(
      restoreBackup({ dbUrl: db.url, store, manifest, encryptionKey: randomBytes(32).toString('hex') }),
    );
    expect(wrong.code).toBe('BACKUP_DECRYPT_FAILED');
    const missing = await rejection(restoreBackup({ dbUrl: db.url, store, manifest }));
    expect(missing.code).toBe('BACKUP_DECRYPT_FAILED');
    expect(await state(db, tables)).toEqual(before);

    const other = await project(databases);
    const otherBefore = await state(other, tables);
    const mismatch = await rejection(
      restoreBackup({ dbUrl: other.url, store, manifest, encryptionKey: SECRET }),
    );
    expect(mismatch.code).toBe('RESTORE_TARGET_MISMATCH');
    expect(mismatch.hint).toMatch(/--allow-other-target; in the Action, allow-other-target: true/);
    expect(await state(other, tables)).toEqual(otherBefore);

    // With the explicit flag, the other database gets the backup's rows.
    const restored = await restoreBackup({
      dbUrl: other.url,
      store,
      manifest,
      encryptionKey: SECRET,
      allowOtherTarget: true,
    });
    expect(restored.ok).toBe(true);
    const restorable = tables.filter((table) => table !== AUDIT);
    expect(await digests(other, restorable)).toEqual(
      Object.fromEntries(Object.entries(rowsAtBackup).filter(([table]) => table !== AUDIT)),
    );
  });

  it('dry run lists the steps and changes nothing', async () => {
    const db = await project(databases);
    const store = new DirectoryStore(join(work, 'dry'));
    const manifest = await takeBackup({ dbUrl: db.url, store, encryptionKey: SECRET });
    const tables = Object.keys(manifest.rowCounts);
    await db.query(`
      delete from public.comments;
      create table public.bad_new (id int);
      drop policy "Avatar images are publicly accessible" on storage.objects;
    `);
    const before = await state(db, tables);

    const result = await restoreBackup({
      dbUrl: db.url,
      store,
      manifest,
      encryptionKey: SECRET,
      dryRun: true,
    });
    expect(await state(db, tables)).toEqual(before);
    expect(result.ok).toBe(true);
    expect(result.historyRestored).toBe(false);
    expect(result.counts).toEqual([]);
    expect(result.rls).toEqual([]);
    const steps = result.steps.join('\n');
    expect(result.steps[0]).toMatch(/^Fetch .*\.dump\.enc from the directory store, check its SHA-256/);
    expect(steps).toMatch(/Drop the \d+ objects of schema supabase_migrations/);
    expect(steps).toMatch(
      /Drop the \d+ objects of schema public \(table public\.bad_new, table public\.comments/,
    );
    expect(steps).toContain('Delete the rows of storage.objects, storage.buckets');
    expect(steps).toMatch(/Restore \d+ entries of the backup \(.*TABLE DATA.*\) with pg_restore --use-list/);
    expect(steps).toContain('Add public.comments to publication supabase_realtime, as in the backup');
    expect(steps).toMatch(/Verify the row counts \(\d+ tables\) and RLS/);
    expect(result.steps.at(-1)).toBe('Dry run: nothing was changed');
  });
});
