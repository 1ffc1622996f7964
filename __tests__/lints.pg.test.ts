import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, disconnect } from '../src/core/db/connect.js';
import { introspect } from '../src/core/schema/introspect.js';
import { introducedLints, type LintFinding, lintSchema } from '../src/core/schema/lints.js';
import type { SchemaModel } from '../src/core/schema/model.js';
import { accessLevel, accessMatrix } from '../src/core/schema/rls.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

async function read(): Promise<SchemaModel> {
  const connection = await connect(db.url, { readOnly: true });
  try {
    return await introspect(connection.client);
  } finally {
    await disconnect(connection);
  }
}

function keys(findings: LintFinding[]): string[] {
  return findings.map((f) => `${f.code} ${f.object}`);
}

/** Objects that follow every rule: the lints must stay silent on PostgreSQL's real deparsed text. */
const CLEAN = `
create table public.posts (
  id bigint generated always as identity primary key,
  author_id uuid not null references auth.users (id),
  title text not null,
  published boolean not null default false
);
create index posts_author_id_idx on public.posts (author_id);
alter table public.posts enable row level security;
create policy "read published or own" on public.posts for select
  using (published or (select auth.uid()) = author_id);
create policy "write own" on public.posts for update to authenticated
  using ((select auth.uid()) = author_id) with check ((select auth.uid()) = author_id);
create policy "insert own" on public.posts for insert to authenticated
  with check (author_id = (select auth.uid()));
create policy "admins delete" on public.posts for delete to authenticated
  using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin'
         and exists (select 1 from public.posts p where p.id = posts.id and p.author_id = (select auth.uid())));
create policy "claims" on public.posts as restrictive for update to authenticated
  using ((select current_setting('request.jwt.claims', true)::jsonb ->> 'aal') = 'aal2');

create view public.published_posts with (security_invoker = true) as
  select id, title from public.posts where published;

create function public.is_author(p_post bigint) returns boolean
  language sql stable security definer set search_path = ''
  as $$ select exists (select 1 from public.posts where id = p_post and author_id = auth.uid()) $$;
revoke execute on function public.is_author(bigint) from public, anon, authenticated;

create policy "own avatars" on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and owner = (select auth.uid()));

-- Near misses: a public bucket without a SELECT policy, a private bucket with a broad one
-- (public_bucket_allows_listing); the reg* types pg_upgrade supports (unsupported_reg_types);
-- a SECURITY DEFINER trigger function no API role can execute.
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true), ('docs', 'docs', false);
create policy "read docs" on storage.objects for select to authenticated using (bucket_id = 'docs');
create schema internal;
create table internal.lookups (id int primary key, rel regclass, typ regtype, owner_role regrole);
create function public.stamp() returns trigger language plpgsql security definer set search_path = ''
  as $$ begin return new; end $$;
revoke execute on function public.stamp() from public, anon, authenticated;
`;

describe('lints on an introspected database', () => {
  it('stay silent on objects that follow every rule', async () => {
    await db.query(CLEAN);
    const model = await read();
    expect(model.tables['public.posts']?.policies['read published or own']?.using).toBe(
      '(published OR (( SELECT auth.uid() AS uid) = author_id))',
    );
    expect(keys(lintSchema(model))).toEqual([]);
  });

  it('fire on the real deparsed text of offending objects', async () => {
    await db.query(CLEAN);
    const before = await read();
    await db.query(`
      -- unindexed_foreign_keys, fkey_to_auth_unique, rls_enabled_no_policy
      create table public.co_authors (
        id bigint generated always as identity primary key,
        post_id bigint not null references public.posts (id),
        user_id uuid not null,
        user_phone text references auth.users (phone)
      );
      create index on public.co_authors (user_id);
      alter table public.co_authors enable row level security;

      -- auth_rls_initplan (direct call, and a call inside a sub-SELECT with FROM)
      create policy "own drafts" on public.posts for select to authenticated using (auth.uid() = author_id);
      create policy "co-authors" on public.posts for update to authenticated
        using (exists (select 1 from public.co_authors c where c.post_id = posts.id and c.user_id = auth.uid()))
        with check (true);
      -- rls_policy_always_true
      create policy "anyone inserts" on public.posts for insert to anon with check (true);
      -- rls_references_user_metadata
      create policy "metadata admins" on public.posts for delete to authenticated
        using (((select auth.jwt()) -> 'user_metadata' ->> 'role') = 'admin');
      -- duplicate_index
      create index posts_title_idx on public.posts (title);
      create index posts_title_idx1 on public.posts (title);

      -- rls_disabled_in_public, sensitive_columns_exposed, no_primary_key
      create table public.api_keys (owner uuid, api_key text, created_at timestamptz);
      -- policy_exists_rls_disabled (outside the API: no rls_disabled_in_public)
      create schema private;
      create table private.jobs (id int primary key);
      create policy "jobs" on private.jobs for select using (true);

      -- auth_users_exposed + security_definer_view, materialized_view_in_api
      create view public.user_emails as select id, email from auth.users;
      create materialized view public.post_counts as select author_id, count(*) from public.posts group by 1;

      -- function_search_path_mutable, anon_/authenticated_security_definer_function_executable
      create function public.delete_everything() returns void language sql security definer
        as $$ delete from public.posts where true $$;
      create function public.touch() returns trigger language plpgsql security definer set search_path = ''
        as $$ begin return new; end $$;

      -- extension_in_public
      create extension pg_trgm with schema public;

      -- on a managed table
      create policy "uploads" on storage.objects for insert to authenticated
        with check (bucket_id = 'docs' and owner = auth.uid());

      -- public_bucket_allows_listing
      create policy "list avatars" on storage.objects for select to anon using (bucket_id = 'avatars');
      -- unsupported_reg_types
      create table private.handlers (id int primary key, fn regprocedure, configs regconfig[]);
    `);
    const after = await read();
    const { introduced, resolved, existing } = introducedLints(before, after);
    expect(resolved).toEqual([]);
    expect(existing).toEqual([]);
    expect(keys(introduced)).toEqual([
      'rls_disabled_in_public public.api_keys',
      'policy_exists_rls_disabled private.jobs',
      'auth_users_exposed public.user_emails',
      'security_definer_view public.user_emails',
      'rls_references_user_metadata public.posts policy "metadata admins"',
      'sensitive_columns_exposed public.api_keys',
      'fkey_to_auth_unique public.co_authors constraint "co_authors_user_phone_fkey"',
      'function_search_path_mutable public.delete_everything()',
      'auth_rls_initplan public.posts policy "co-authors"',
      'auth_rls_initplan public.posts policy "own drafts"',
      'auth_rls_initplan storage.objects policy "uploads"',
      'multiple_permissive_policies public.posts (authenticated, DELETE)',
      'multiple_permissive_policies public.posts (authenticated, SELECT)',
      'multiple_permissive_policies public.posts (authenticated, UPDATE)',
      'multiple_permissive_policies storage.objects (authenticated, INSERT)',
      'duplicate_index public.posts indexes "posts_title_idx", "posts_title_idx1"',
      'extension_in_public pg_trgm',
      'materialized_view_in_api public.post_counts',
      'unsupported_reg_types private.handlers column "configs"',
      'unsupported_reg_types private.handlers column "fn"',
      'rls_policy_always_true public.posts policy "anyone inserts"',
      'rls_policy_always_true public.posts policy "co-authors"',
      'public_bucket_allows_listing bucket "avatars"',
      'anon_security_definer_function_executable public.delete_everything()',
      'anon_security_definer_function_executable public.touch()',
      'authenticated_security_definer_function_executable public.delete_everything()',
      'authenticated_security_definer_function_executable public.touch()',
      'unindexed_foreign_keys public.co_authors constraint "co_authors_post_id_fkey"',
      'unindexed_foreign_keys public.co_authors constraint "co_authors_user_phone_fkey"',
      'no_primary_key public.api_keys',
      'rls_enabled_no_policy public.co_authors',
    ]);
    const initplan = introduced.find((f) => f.object === 'public.posts policy "own drafts"');
    expect(initplan?.message).toContain('auth.uid()');
    expect(after.tables['public.posts']?.policies['anyone inserts']?.withCheck).toBe('true');
  });

  it('back the trigger function remediation: a trigger fires for a role without EXECUTE on its function', async () => {
    await db.query(`
      create table public.events (id int primary key, stamped boolean not null default false);
      alter table public.events enable row level security;
      create policy "anon inserts" on public.events for insert to anon with check (id > 0);
      grant insert on public.events to anon;
      create function public.stamp_event() returns trigger language plpgsql security definer set search_path = ''
        as $$ begin new.stamped := true; return new; end $$;
      create trigger stamp before insert on public.events for each row execute function public.stamp_event();
      revoke execute on function public.stamp_event() from public, anon, authenticated;
    `);
    await db.query('set role anon; insert into public.events (id) values (1); reset role;');
    expect(await db.query('select stamped from public.events')).toEqual([{ stamped: true }]);
    const found = lintSchema(await read()).filter((f) => f.object === 'public.stamp_event()');
    expect(found).toEqual([]);
  });

  it('foreign_table_in_api: a foreign table in public that anon can read, and none in a private schema', async () => {
    await db.query(`
      create extension postgres_fdw with schema extensions;
      create server remote foreign data wrapper postgres_fdw options (host 'db.example');
      create foreign table public.remote_orders (id bigint) server remote;
      grant select on public.remote_orders to anon;
      create schema private;
      create foreign table private.remote_users (id bigint) server remote;
      grant usage on schema private to anon;
      grant select on private.remote_users to anon;
    `);
    const found = lintSchema(await read()).filter((f) => f.code === 'foreign_table_in_api');
    expect(keys(found)).toEqual(['foreign_table_in_api public.remote_orders']);
    await db.query('revoke select on public.remote_orders from anon, authenticated;');
    expect(lintSchema(await read()).filter((f) => f.code === 'foreign_table_in_api')).toEqual([]);
  });

  it('report fixes as resolved', async () => {
    await db.query(`
      create table public.notes (id int primary key, owner uuid);
      alter table public.notes enable row level security;
      create policy "own" on public.notes for select to authenticated using (auth.uid() = owner);
      create policy "anyone writes" on public.notes for insert to anon with check (true);
    `);
    const before = await read();
    await db.query(`
      alter policy "own" on public.notes using ((select auth.uid()) = owner);
      alter policy "anyone writes" on public.notes to authenticated with check ((select auth.uid()) = owner);
    `);
    const after = await read();
    const result = introducedLints(before, after);
    expect(keys(result.resolved)).toEqual([
      'auth_rls_initplan public.notes policy "own"',
      'rls_policy_always_true public.notes policy "anyone writes"',
    ]);
    expect(result.introduced).toEqual([]);
  });

  it('feed the access matrix with the deparsed predicates', async () => {
    await db.query(CLEAN);
    const before = await read();
    await db.query(`create policy "anyone inserts" on public.posts for insert to anon with check (true);`);
    const after = await read();
    expect(accessLevel(after, 'public.posts', 'authenticated', 'INSERT')).toEqual({
      kind: 'rows',
      expression: '(author_id = ( SELECT auth.uid() AS uid))',
    });
    expect(accessLevel(after, 'public.posts', 'anon', 'SELECT')).toEqual({
      kind: 'rows',
      expression: '(published OR (( SELECT auth.uid() AS uid) = author_id))',
    });
    const [posts, ...others] = accessMatrix(before, after);
    expect(others).toEqual([]);
    expect(posts?.cells.filter((c) => c.changed)).toEqual([
      { role: 'anon', command: 'INSERT', before: { kind: 'none' }, after: { kind: 'all' }, changed: true },
    ]);
    expect(posts?.cells.find((c) => c.role === 'authenticated' && c.command === 'UPDATE')?.after).toEqual({
      kind: 'rows',
      expression:
        "USING ((( SELECT auth.uid() AS uid) = author_id) AND (( SELECT ((current_setting('request.jwt.claims'::text, true))::jsonb ->> 'aal'::text)) = 'aal2'::text)) CHECK ((( SELECT auth.uid() AS uid) = author_id) AND (( SELECT ((current_setting('request.jwt.claims'::text, true))::jsonb ->> 'aal'::text)) = 'aal2'::text))",
    });
    expect(posts?.cells.find((c) => c.role === 'service_role')?.after).toEqual({ kind: 'bypass' });
  });
});
