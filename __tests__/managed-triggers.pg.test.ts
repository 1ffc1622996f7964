import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { copyDatabase } from '../src/core/commands/copy.js';
import { drift } from '../src/core/commands/drift.js';
import { plan } from '../src/core/commands/plan.js';
import { resolveConfig } from '../src/core/config.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
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

const PROFILES = {
  '1_profiles': `
create table public.profiles (id uuid primary key references auth.users on delete cascade, username text);
alter table public.profiles enable row level security;
create policy "own profile" on public.profiles for select to authenticated using ((select auth.uid()) = id);`,
};

const SIGN_UP_TRIGGER = {
  '2_sign_up': `
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin insert into public.profiles (id) values (new.id); return new; end $$;
revoke execute on function public.handle_new_user() from public, anon, authenticated;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
create function public.touch_object() returns trigger language plpgsql as $$ begin return new; end $$;
revoke execute on function public.touch_object() from public, anon, authenticated;
create trigger touch_before_upload before insert on storage.objects for each row execute function public.touch_object();`,
};

async function production(files: Record<string, string>): Promise<TestProject> {
  project = await createProject(migrations(files));
  const applied = await apply(project.config(db.url));
  expect(applied.blockingReasons).toEqual([]);
  expect(applied.status).toBe('applied');
  return project;
}

describe('triggers migrations put on Supabase-managed tables', () => {
  it('plan shows a trigger added on auth.users and storage.objects, in its JSON too', async () => {
    const p = await production(PROFILES);
    for (const [name, sql] of Object.entries(SIGN_UP_TRIGGER))
      await p.write(`supabase/migrations/${name}.sql`, sql);
    const result = await plan(p.config(db.url));
    expect(result.failure).toBeUndefined();
    const byId = new Map(result.diff.changes.map((c) => [`${c.kind} ${c.id}`, c]));
    expect(byId.get('table auth.users')?.members).toEqual([
      expect.objectContaining({ kind: 'trigger', name: 'on_auth_user_created', action: 'added' }),
    ]);
    expect(byId.get('table storage.objects')?.members).toEqual([
      expect.objectContaining({ kind: 'trigger', name: 'touch_before_upload', action: 'added' }),
    ]);
    const json = JSON.parse(JSON.stringify(result)) as typeof result;
    expect(json.diff.changes.find((c) => c.id === 'auth.users')?.members[0]?.name).toBe(
      'on_auth_user_created',
    );
  });

  it('drift is in sync with the trigger and finds it dropped by hand', async () => {
    const p = await production({ ...PROFILES, ...SIGN_UP_TRIGGER });
    const inSync = await drift(p.config(db.url));
    expect(inSync.failure).toBeUndefined();
    expect(inSync.diff.changes).toEqual([]);
    expect(inSync.status).toBe('in-sync');
    await db.query('drop trigger on_auth_user_created on auth.users');
    const result = await drift(p.config(db.url));
    expect(result.status).toBe('drifted');
    expect(result.diff.changes).toEqual([
      expect.objectContaining({
        kind: 'table',
        id: 'auth.users',
        members: [
          expect.objectContaining({ kind: 'trigger', name: 'on_auth_user_created', action: 'removed' }),
        ],
      }),
    ]);
  });

  it('plans, drifts and restores a trigger on any auth or storage table (auth.identities)', async () => {
    const p = await production(PROFILES);
    await p.write(
      'supabase/migrations/3_identities.sql',
      `alter table public.profiles add column providers text[] not null default '{}';
create function public.sync_providers() returns trigger language plpgsql security definer set search_path = '' as $$
begin update public.profiles set providers = array_append(providers, new.provider) where id = new.user_id; return new; end $$;
revoke execute on function public.sync_providers() from public, anon, authenticated;
create trigger on_identity_created after insert on auth.identities for each row execute function public.sync_providers();`,
    );
    const planned = await plan(p.config(db.url));
    expect(planned.failure).toBeUndefined();
    const identities = planned.diff.changes.find((c) => c.id === 'auth.identities');
    expect(identities).toMatchObject({ kind: 'table', action: 'changed' });
    expect(identities?.members).toEqual([
      expect.objectContaining({ kind: 'trigger', name: 'on_identity_created', action: 'added' }),
    ]);

    expect((await apply(p.config(db.url))).status).toBe('applied');
    expect((await drift(p.config(db.url))).status).toBe('in-sync');
    await db.query('drop trigger on_identity_created on auth.identities');
    const dropped = await drift(p.config(db.url));
    expect(dropped.status).toBe('drifted');
    expect(dropped.diff.changes).toEqual([
      expect.objectContaining({
        kind: 'table',
        id: 'auth.identities',
        action: 'changed',
        members: [
          expect.objectContaining({ kind: 'trigger', name: 'on_identity_created', action: 'removed' }),
        ],
      }),
    ]);
  });

  it('copy carries the sign-up trigger: the copied project creates a profile on sign-up', async () => {
    await production({ ...PROFILES, ...SIGN_UP_TRIGGER });
    const target = await createTestDatabase();
    try {
      const result = await copyDatabase(resolveConfig({}), { from: db.url, to: target.url });
      expect(result.ok).toBe(true);
      await target.query(
        `insert into auth.users (id, email) values ('00000000-0000-0000-0000-0000000000b2', 'b@example.com')`,
      );
      expect(await target.query('select id from public.profiles')).toEqual([
        { id: '00000000-0000-0000-0000-0000000000b2' },
      ]);
    } finally {
      await target.drop();
    }
  });
});
