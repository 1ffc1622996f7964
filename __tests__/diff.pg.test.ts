import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, disconnect } from '../src/core/db/connect.js';
import type { ObjectChange, ObjectKind } from '../src/core/schema/changes.js';
import { objectDdl } from '../src/core/schema/ddl.js';
import { diffSchemas } from '../src/core/schema/diff.js';
import { introspect } from '../src/core/schema/introspect.js';
import type { SchemaModel } from '../src/core/schema/model.js';
import { renameHintsFromSql } from '../src/core/schema/renames.js';
import { quoteIdent } from '../src/core/sql/identifiers.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

let before: TestDatabase;
let after: TestDatabase;

beforeEach(async () => {
  [before, after] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterEach(async () => {
  await Promise.all([before.drop(), after.drop()]);
});

async function read(db: TestDatabase): Promise<SchemaModel> {
  const connection = await connect(db.url, { readOnly: true });
  try {
    return await introspect(connection.client);
  } finally {
    await disconnect(connection);
  }
}

/** The same SQL in both databases, then `change` in the "after" one only. */
async function models(common: string, change: string): Promise<{ a: SchemaModel; b: SchemaModel }> {
  if (common) await Promise.all([before.query(common), after.query(common)]);
  if (change) await after.query(change);
  const [a, b] = await Promise.all([read(before), read(after)]);
  return { a, b };
}

function find(changes: ObjectChange[], kind: ObjectKind, id: string): ObjectChange {
  const change = changes.find((c) => c.kind === kind && c.id === id);
  if (!change)
    throw new Error(`no ${kind} ${id} among ${changes.map((c) => `${c.kind} ${c.id}`).join(', ')}`);
  return change;
}

const SCHEMA = `
create type public.mood as enum ('happy', 'sad');
create table public.profiles (
  id uuid primary key,
  username text not null,
  age integer,
  mood public.mood,
  n serial
);
alter table public.profiles enable row level security;
create policy "read own" on public.profiles for select to authenticated using (auth.uid() = id);
create view public.names as select username from public.profiles;
create function public.is_adult(p_age integer) returns boolean language sql immutable
  as $$ select p_age >= 18 $$;
`;

describe('diffSchemas on introspected databases', () => {
  it('finds no change between two identical databases', async () => {
    const { a, b } = await models(SCHEMA, '');
    expect(Object.keys(a.tables)).toContain('public.profiles');
    expect(diffSchemas(a, b).changes).toEqual([]);
    // Nor between a database and itself read twice.
    expect(diffSchemas(a, await read(before)).changes).toEqual([]);
  });

  it('reports column types, policies, RLS, views, enums, grants and function privileges end to end', async () => {
    const { a, b } = await models(
      SCHEMA,
      `
      alter table public.profiles alter column age type bigint;
      alter table public.profiles force row level security;
      alter policy "read own" on public.profiles using ((select auth.uid()) = id);
      grant select (username) on public.profiles to authenticated;
      revoke all on public.profiles from anon;
      alter view public.names set (security_invoker = true);
      alter type public.mood add value 'meh' before 'sad';
      revoke execute on function public.is_adult(integer) from public;
      comment on table public.profiles is 'Profiles';
      `,
    );
    const { changes } = diffSchemas(a, b);
    expect(changes.map((c) => `${c.kind} ${c.id} ${c.action}`)).toEqual([
      'type public.mood changed',
      'table public.profiles changed',
      'view public.names changed',
      'function public.is_adult(integer) changed',
    ]);

    expect(find(changes, 'type', 'public.mood').attributes).toEqual([
      { attribute: 'labels', before: ['happy', 'sad'], after: ['happy', 'meh', 'sad'] },
    ]);

    const table = find(changes, 'table', 'public.profiles');
    expect(table.attributes).toEqual(
      expect.arrayContaining([
        { attribute: 'rlsForced', before: false, after: true },
        { attribute: 'comment', before: null, after: 'Profiles' },
      ]),
    );
    const grants = table.attributes.find((x) => x.attribute === 'grants');
    // Supabase's default privileges give anon everything on new tables in public.
    expect(grants?.before).toContain('anon: ALL');
    expect(grants?.after).not.toContain('anon: ALL');
    const age = table.members.find((m) => m.kind === 'column' && m.name === 'age');
    expect(age?.attributes).toEqual([{ attribute: 'type', before: 'integer', after: 'bigint' }]);
    const username = table.members.find((m) => m.kind === 'column' && m.name === 'username');
    expect(username?.attributes).toEqual([
      { attribute: 'grants', before: [], after: ['authenticated: SELECT'] },
    ]);
    const policy = table.members.find((m) => m.kind === 'policy');
    expect(policy).toMatchObject({ name: 'read own', action: 'changed' });
    expect(policy?.attributes.map((x) => x.attribute)).toEqual(['using']);
    expect(table.ddl.diff).toContain('-    age integer,\n+    age bigint,');

    expect(find(changes, 'view', 'public.names').attributes).toEqual([
      { attribute: 'securityInvoker', before: false, after: true },
    ]);
    const fn = find(changes, 'function', 'public.is_adult(integer)');
    expect(fn.attributes.map((x) => x.attribute)).toEqual(['grants']);
    expect(fn.ddl.diff).toContain('+REVOKE ALL ON FUNCTION public.is_adult(p_age integer) FROM PUBLIC;');
  });

  it('recognizes a rename the migration states, and ignores table size estimates', async () => {
    const migration = `
      alter table public.profiles rename to members;
      alter table public.members rename column username to handle;
    `;
    await before.query(SCHEMA);
    await after.query(SCHEMA);
    await before.query(
      "insert into public.profiles select gen_random_uuid(), 'u' || i from generate_series(1, 2000) i; analyze public.profiles;",
    );
    await after.query(migration);
    const [a, b] = await Promise.all([read(before), read(after)]);
    expect(a.tables['public.profiles']?.stats.estimatedRows).toBeGreaterThan(0);

    const hints = await renameHintsFromSql([migration]);
    const { changes } = diffSchemas(a, b, hints);
    const renamed = find(changes, 'table', 'public.members');
    expect(renamed).toMatchObject({ action: 'renamed', renamedFrom: 'public.profiles' });
    expect(renamed.members).toContainEqual(
      expect.objectContaining({ kind: 'column', name: 'handle', action: 'renamed', renamedFrom: 'username' }),
    );
    expect(changes.find((c) => c.kind === 'table' && c.action === 'removed')).toBeUndefined();

    // Without hints: removed + added.
    const unhinted = diffSchemas(a, b).changes.filter((c) => c.kind === 'table');
    expect(unhinted.map((c) => `${c.id} ${c.action}`)).toEqual([
      'public.members added',
      'public.profiles removed',
    ]);
  });

  it('a dropped table is one change: its identity and serial sequences go with it', async () => {
    const { a, b } = await models(
      'create table public.notes (id bigint generated always as identity primary key, n serial, body text);',
      'drop table public.notes;',
    );
    expect(Object.keys(a.sequences)).toEqual(
      expect.arrayContaining(['public.notes_id_seq', 'public.notes_n_seq']),
    );
    expect(diffSchemas(a, b).changes.map((c) => `${c.kind} ${c.id} ${c.action}`)).toEqual([
      'table public.notes removed',
    ]);
  });

  it('writes DDL PostgreSQL accepts and that recreates the same objects', async () => {
    await before.query(`
      create schema app;
      create type app.status as enum ('draft', 'it''s live');
      create domain app.positive as integer not null default 1 check (value > 0);
      alter domain app.positive add constraint below_million check (value < 1000000) not valid;
      create type app.pair as (a integer, b text collate "C");
      create function app.touch() returns trigger language plpgsql set search_path = '' as $$
        begin new.updated_at = now(); return new; end $$;
      create table app."Order" (
        id bigint generated by default as identity primary key,
        "select" text collate "C" not null default 'x',
        "Weird ""name""" app.status,
        qty app.positive,
        total numeric generated always as (qty * 2) stored,
        updated_at timestamptz,
        parent_id bigint,
        unique ("select", qty) deferrable initially deferred
      );
      alter table app."Order" add constraint order_parent_fkey foreign key (parent_id)
        references app."Order" (id) on delete cascade not valid;
      alter table app."Order" add constraint qty_reasonable check (qty < 1000) not valid;
      create index order_updated_idx on app."Order" (updated_at desc) where updated_at is not null;
      create trigger touch before update on app."Order" for each row execute function app.touch();
      alter table app."Order" disable trigger touch;
      alter table app."Order" enable row level security;
      alter table app."Order" replica identity full;
      create policy "Own rows" on app."Order" as restrictive for update to authenticated, anon
        using (auth.uid() is not null) with check (qty > 0);
      grant select, insert on app."Order" to authenticated;
      grant select ("select") on app."Order" to anon;
      grant usage on schema app to authenticated;
      comment on table app."Order" is 'Orders, it''s';
      comment on column app."Order"."select" is 'a reserved word';
      create view app.open_orders with (security_barrier = true) as
        select id, "select" from app."Order" where qty > 0 with local check option;
      create materialized view app.order_counts as select count(*) as n from app."Order" with no data;
      create index order_counts_n on app.order_counts (n);
      create table app.events (at date not null) partition by range (at);
      create table app.events_2024 partition of app.events for values from ('2024-01-01') to ('2025-01-01');
      create sequence app.counter as integer increment by 5 cache 10 cycle owned by app."Order".qty;
      create function app.secret() returns int language sql security definer set search_path = '' as $$ select 1 $$;
      revoke execute on function app.secret() from public;
      grant execute on function app.secret() to service_role;
      alter default privileges for role postgres in schema app grant select on tables to anon;
      create publication app_pub for table app."Order", app.events with (publish = 'insert, update');
      create policy "Avatar uploads" on storage.objects for insert to authenticated
        with check (bucket_id = 'avatars');
      insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
        values ('avatars', 'Avatars', true, 1048576, array['image/png', 'image/jpeg']);
    `);
    const a = await read(before);
    const order: [ObjectKind, string][] = [
      ['schema', 'app'],
      ['type', 'app.status'],
      ['type', 'app.positive'],
      ['type', 'app.pair'],
      ['function', 'app.touch()'],
      ['table', 'app."Order"'],
      ['view', 'app.open_orders'],
      ['materialized view', 'app.order_counts'],
      ['table', 'app.events'],
      ['table', 'app.events_2024'],
      ['sequence', 'app.counter'],
      ['function', 'app.secret()'],
      ['default privileges', 'postgres:app:tables'],
      ['publication', 'app_pub'],
      ['table', 'storage.objects'],
      ['bucket', 'avatars'],
    ];
    const ddl = order.map(([kind, id]) => {
      const text = objectDdl(a, kind, id);
      expect(text, `${kind} ${id}`).not.toBeNull();
      return text as string;
    });
    // The identity sequence comes with its column; everything else from the DDL alone.
    await after.query(ddl.join('\n'));
    const b = await read(after);
    expect(diffSchemas(a, b).changes).toEqual([]);
    expect(a.tables['storage.objects']?.policies['Avatar uploads']).toBeDefined();
    expect(a.buckets.avatars).toBeDefined();
    expect(objectDdl(a, 'type', 'app.positive')).toContain(
      'ALTER DOMAIN app.positive ADD CONSTRAINT below_million CHECK ((VALUE < 1000000)) NOT VALID;',
    );
  });

  it('quotes identifiers exactly as the server’s quote_ident()', async () => {
    const rows = await before.query<{ word: string; quoted: string; version: number }>(
      `SELECT word, quote_ident(word) AS quoted, current_setting('server_version_num')::int AS version
         FROM pg_get_keywords()`,
    );
    expect(rows.length).toBeGreaterThan(400);
    const version = rows[0]?.version ?? 0;
    const mismatches = rows
      .filter((row) => quoteIdent(row.word, version) !== row.quoted)
      .map((row) => row.word);
    expect(mismatches).toEqual([]);
    const odd = ['Order', 'a"b', 'café', '1x', 'ok_name', 'x$y'];
    const [server] = await before.query<{ quoted: string[] }>(
      'SELECT array_agg(quote_ident(w) ORDER BY o) AS quoted FROM unnest($1::text[]) WITH ORDINALITY AS t(w, o)',
      [odd],
    );
    expect(odd.map((w) => quoteIdent(w, version))).toEqual(server?.quoted);
  });
});
