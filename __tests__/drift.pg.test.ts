import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { drift } from '../src/core/commands/drift.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

let db: TestDatabase;
let project: TestProject | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

/** What Supabase apps' migrations typically do, platform objects included. */
const APP = {
  '20240101000000_profiles': `
create table public.profiles (id uuid primary key references auth.users on delete cascade, username text unique, bio text);
alter table public.profiles enable row level security;
create policy "profiles are public" on public.profiles for select using (true);
create policy "own profile" on public.profiles for update to authenticated using ((select auth.uid()) = id);
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin insert into public.profiles (id) values (new.id); return new; end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();`,
  '20240102000000_avatars': `
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
create policy "avatar uploads" on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and (select auth.uid())::text = (storage.foldername(name))[1]);
alter publication supabase_realtime add table public.profiles;
create policy "profile owners join their channel" on realtime.messages for select to authenticated
  using (realtime.topic() = 'profile:' || (select auth.uid())::text);
create schema private;
create table private.audit (id bigint generated always as identity primary key, at timestamptz default now());`,
};

async function production(files: Record<string, string> = APP): Promise<TestProject> {
  project = await createProject(migrations(files));
  const applied = await apply(project.config(db.url));
  expect(applied.status).toBe('applied');
  return project;
}

function driftConfig(p: TestProject) {
  return p.config(db.url, { shadowUrl: inject('shadowUrl'), detectLocalSupabase: false });
}

describe('drift', () => {
  it('finds none when production is exactly what its migrations produce, platform objects included', async () => {
    const p = await production();
    const before = await snapshot(db);
    const result = await drift(driftConfig(p));
    expect(result.failure).toBeUndefined();
    expect(result.diff.changes).toEqual([]);
    expect(result.shadow.warnings).toEqual([]);
    expect(result).toMatchObject({
      status: 'in-sync',
      replayed: ['20240101000000', '20240102000000'],
      edited: [],
      missingLocal: [],
    });
    expect(await snapshot(db)).toEqual(before);
  });

  it('reports what was changed outside the migrations: a policy, a column, a storage policy, a bucket, realtime, a realtime policy', async () => {
    const p = await production();
    await db.query(`
      drop policy "profiles are public" on public.profiles;
      alter table public.profiles add column website text;
      create policy "anyone reads avatars" on storage.objects for select using (bucket_id = 'avatars');
      insert into storage.buckets (id, name, public) values ('docs', 'docs', false);
      alter publication supabase_realtime drop table public.profiles;
      create policy "anyone broadcasts" on realtime.messages for insert to anon with check (true);`);
    const result = await drift(driftConfig(p));
    expect(result.status).toBe('drifted');
    const byId = new Map(result.diff.changes.map((c) => [`${c.kind} ${c.id}`, c]));
    const profiles = byId.get('table public.profiles');
    expect(profiles?.members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'policy', name: 'profiles are public', action: 'removed' }),
        expect.objectContaining({ kind: 'column', name: 'website', action: 'added' }),
      ]),
    );
    expect(byId.get('table storage.objects')?.members).toEqual([
      expect.objectContaining({ kind: 'policy', name: 'anyone reads avatars', action: 'added' }),
    ]);
    expect(byId.get('bucket docs')?.action).toBe('added');
    expect(byId.get('publication supabase_realtime')?.action).toBe('changed');
    expect(byId.get('table realtime.messages')?.members).toEqual([
      expect.objectContaining({ kind: 'policy', name: 'anyone broadcasts', action: 'added' }),
    ]);
    expect(byId.size).toBe(5);
  });

  it('does not count pending migrations as drift, and reports edited and unknown applied versions', async () => {
    const p = await production();
    await p.write('supabase/migrations/20240103000000_later.sql', 'create table public.later (id int);');
    await p.write(
      'supabase/migrations/20240102000000_avatars.sql',
      `${APP['20240102000000_avatars']}\ncreate index audit_at on private.audit (at);`,
    );
    await db.query(
      `insert into supabase_migrations.schema_migrations (version, name, statements) values ('20231231000000', 'by_hand', '{}')`,
    );
    const result = await drift(driftConfig(p));
    expect(result).toMatchObject({
      status: 'drifted',
      pending: ['20240103000000'],
      edited: ['20240102000000'],
      missingLocal: ['20231231000000'],
    });
    expect(result.diff.changes.map((c) => `${c.kind} ${c.id}`)).toEqual(['table private.audit']);
    expect(result.diff.changes[0]?.members).toEqual([
      expect.objectContaining({ kind: 'index', name: 'audit_at', action: 'removed' }),
    ]);
  });

  it('fails, naming the file and line, when an applied migration cannot be replayed', async () => {
    await db.query('create table public.made_by_hand (id int primary key)');
    const p = await production({
      '1_fk':
        'create table public.child (id int primary key,\n  parent int references public.made_by_hand);\nalter table public.child enable row level security;',
    });
    const before = await snapshot(db);
    const result = await drift(driftConfig(p));
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({
      stage: 'migration',
      file: 'supabase/migrations/1_fk.sql',
      line: 1,
    });
    expect(result.failure?.message).toContain('made_by_hand');
    expect(result.failure?.hint).toContain('dashboard');
    expect(await snapshot(db)).toEqual(before);
  });

  it("looks only at this app's schemas in a database several apps share", async () => {
    const p = await production();
    // Another app's schema, made without this app's migrations.
    await db.query('create schema billing; create table billing.invoices (id int primary key);');
    const everything = await drift(driftConfig(p));
    expect(everything.diff.changes.map((c) => `${c.kind} ${c.id}`)).toEqual([
      'schema billing',
      'table billing.invoices',
    ]);
    const own = await drift(
      p.config(db.url, {
        shadowUrl: inject('shadowUrl'),
        detectLocalSupabase: false,
        schemas: 'public,private',
      }),
    );
    expect(own.status).toBe('in-sync');
    expect(own.diff.changes).toEqual([]);
  });

  it('refuses a database that has no migration history', async () => {
    project = await createProject(migrations(APP));
    await expect(drift(driftConfig(project))).rejects.toMatchObject({ code: 'HISTORY_MISSING' });
  });
});
