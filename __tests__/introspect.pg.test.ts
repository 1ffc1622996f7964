import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ConnectOptions, connect, disconnect } from '../src/core/db/connect.js';
import { type IntrospectOptions, introspect } from '../src/core/schema/introspect.js';
import type { Grant, SchemaModel } from '../src/core/schema/model.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/** Introspects through a connection of its own, after optional session set-up statements. */
async function read(
  db: TestDatabase,
  options?: IntrospectOptions,
  session: { setup?: string; connect?: ConnectOptions } = {},
): Promise<SchemaModel> {
  const connection = await connect(db.url, session.connect);
  try {
    if (session.setup) await connection.client.query(session.setup);
    return await introspect(connection.client, options);
  } finally {
    await disconnect(connection);
  }
}

/** Grants of every privilege to every role, in the model's order (grantee, then privilege). */
function grants(roles: string[], privileges: string[], grantable = false): Grant[] {
  return [...roles]
    .sort()
    .flatMap((grantee) => [...privileges].sort().map((privilege) => ({ grantee, privilege, grantable })));
}

const TABLE_PRIVILEGES = ['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'];
const SEQUENCE_PRIVILEGES = ['SELECT', 'UPDATE', 'USAGE'];
const API_ROLES = ['anon', 'authenticated', 'service_role'];
/** What the bootstrap's default privileges give every table postgres creates in public. */
const PUBLIC_TABLE_GRANTS = grants(['postgres', ...API_ROLES], TABLE_PRIVILEGES);

/** One of each object kind, Supabase style, with comments on every kind. */
const FIXTURE = `
create type public.mood as enum ('happy', 'sad');
alter type public.mood add value 'meh' before 'sad';
comment on type public.mood is 'How it feels';
create domain public.email as text collate "C" not null default 'nobody@example.com' check (value ~ '@');
comment on domain public.email is 'An address';
create type public.price as (amount numeric(12,2), currency text collate "C");
comment on type public.price is 'Amount and currency';

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text not null unique,
  mood public.mood default 'happy',
  email public.email,
  created_at timestamptz not null default now()
);
comment on table public.profiles is 'One row per user';
comment on column public.profiles.username is 'Public handle';
alter table public.profiles enable row level security;
alter table public.profiles force row level security;
create policy "profiles are public" on public.profiles for select using (true);
create policy "owners update" on public.profiles as restrictive for update to service_role, authenticated
  using ((select auth.uid()) = id) with check (username <> '');
comment on policy "profiles are public" on public.profiles is 'Anyone may read';
grant select (id, username) on public.profiles to anon;

create table public."Order" (
  id bigint generated always as identity primary key,
  number serial,
  quantity integer not null default 1,
  total numeric generated always as (quantity * 2) stored,
  label text collate "C",
  placed_at timestamptz default '2024-01-01 00:00+00',
  during tstzrange,
  constraint "Order_no_overlap" exclude using gist (during with &&)
);
create table public.order_items (
  id integer primary key,
  order_id bigint,
  sku text,
  constraint positive_id check (id > 0)
);
alter table public.order_items add constraint order_items_order_fk
  foreign key (order_id) references public."Order" (id) on delete cascade not valid;
comment on constraint positive_id on public.order_items is 'Ids are positive';
create index order_items_sku_lower on public.order_items (lower(sku)) where sku is not null;
comment on index public.order_items_sku_lower is 'Case-insensitive SKU lookup';
insert into public.order_items (id, sku) values (1, 'dup'), (2, 'dup');

create function public.touch() returns trigger language plpgsql
  as $$ begin new.created_at := now(); return new; end $$;
create trigger profiles_touch before update on public.profiles for each row execute function public.touch();
alter table public.profiles disable trigger profiles_touch;
comment on trigger profiles_touch on public.profiles is 'Keeps created_at fresh';

create table public.events (id bigint not null, at date not null, primary key (id, at)) partition by range (at);
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
alter table public.events replica identity full;
create trigger events_touch before update on public.events for each row execute function public.touch();

create view public.public_profiles with (security_invoker = true) as select id, username from public.profiles;
comment on view public.public_profiles is 'The API view';
comment on column public.public_profiles.username is 'Handle';
revoke all on public.public_profiles from anon;
create view public.named_profiles with (security_barrier) as
  select id, username from public.profiles where username <> '' with local check option;
create materialized view public.order_counts as
  select order_id, count(*) as items from public.order_items group by order_id with no data;
create unique index order_counts_order_id on public.order_counts (order_id);
comment on materialized view public.order_counts is 'Items per order';

create function public.is_admin(p_user uuid, p_level integer default 1) returns boolean
  language sql stable security definer set search_path = ''
  as $$ select exists (select 1 from public.profiles where id = p_user) $$;
create function public.is_admin(p_user text) returns boolean
  language sql immutable strict parallel safe
  as $$ select p_user = 'admin' $$;
revoke execute on function public.is_admin(uuid, integer) from public, anon;
grant execute on function public.is_admin(uuid, integer) to authenticated;
comment on function public.is_admin(uuid, integer) is 'Is the user an admin?';
create procedure public.archive(p_before date) language plpgsql
  as $$ begin delete from public.events where at < p_before; end $$;
comment on procedure public.archive(date) is 'Drops old events';
create aggregate public.total_of(integer) (sfunc = int4pl, stype = integer, initcond = '0');
create function public.answer() returns integer language sql immutable begin atomic select 42; end;

create schema api;
comment on schema api is 'Exposed to the API';
grant usage on schema api to anon;
alter default privileges in schema api grant select on tables to anon;
create table api.notes (id integer);
create sequence api.counter as integer increment by 5 start with 10 maxvalue 100 cache 1 cycle;
comment on sequence api.counter is 'Counts by five';

alter publication supabase_realtime add table public.profiles;
create publication audit for table public."Order", public.order_items with (publish = 'insert, delete');
create publication api_changes for tables in schema api;

create policy "own avatars" on storage.objects for select to authenticated
  using (bucket_id = 'avatars' and owner = (select auth.uid()));
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
  values ('avatars', 'avatars', true, 1048576, '{image/png,image/jpeg}'),
         ('private', 'private', false, null, null);

create extension hstore with schema public;

-- pg_cron is not in the embedded build: a stand-in with pg_cron's columns.
create schema cron;
create table cron.job (
  jobid bigserial primary key, schedule text not null, command text not null,
  nodename text not null default 'localhost', nodeport integer not null default 5432,
  database text not null default current_database(), username text not null default current_user,
  active boolean not null default true, jobname text
);
insert into cron.job (schedule, command, jobname) values ('0 3 * * *', 'vacuum', 'nightly-vacuum');
insert into cron.job (schedule, command, active) values ('*/5 * * * *', 'select 1', false);

alter default privileges revoke execute on functions from public;
analyze public.order_items;
`;

describe('introspect: every object kind', () => {
  let db: TestDatabase;
  let model: SchemaModel;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.query(FIXTURE);
    // A unique index built concurrently over duplicates fails and stays behind, invalid.
    // (CONCURRENTLY cannot run in a transaction: its own statement.)
    await expect(
      db.query('create unique index concurrently order_items_sku_unique on public.order_items (sku)'),
    ).rejects.toThrow(/could not create unique index/);
    model = await read(db);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reads the server version and only the user schemas', () => {
    expect(model.serverVersion).toBeGreaterThanOrEqual(150000);
    expect(Object.keys(model.schemas)).toEqual(['api', 'public']);
    expect(model.schemas.api).toEqual({
      name: 'api',
      owner: 'postgres',
      comment: 'Exposed to the API',
      grants: [
        { grantee: 'anon', privilege: 'USAGE', grantable: false },
        { grantee: 'postgres', privilege: 'CREATE', grantable: false },
        { grantee: 'postgres', privilege: 'USAGE', grantable: false },
      ],
    });
    // PostgreSQL 15: public belongs to pg_database_owner; the bootstrap grants USAGE to the API roles.
    expect(model.schemas.public).toEqual({
      name: 'public',
      owner: 'pg_database_owner',
      comment: 'standard public schema',
      grants: [
        { grantee: 'PUBLIC', privilege: 'USAGE', grantable: false },
        { grantee: 'anon', privilege: 'USAGE', grantable: false },
        { grantee: 'authenticated', privilege: 'USAGE', grantable: false },
        { grantee: 'pg_database_owner', privilege: 'CREATE', grantable: false },
        { grantee: 'pg_database_owner', privilege: 'USAGE', grantable: false },
        { grantee: 'service_role', privilege: 'USAGE', grantable: false },
      ],
    });
  });

  it('reads extensions, but none of the objects they own', () => {
    expect(model.extensions.hstore).toEqual({
      name: 'hstore',
      schema: 'public',
      version: expect.any(String),
    });
    expect(model.extensions.pgcrypto).toMatchObject({ name: 'pgcrypto', schema: 'extensions' });
    expect(model.extensions['uuid-ossp']).toMatchObject({ name: 'uuid-ossp', schema: 'extensions' });
    // hstore put dozens of functions, operators' functions and the hstore type into public.
    expect(Object.keys(model.functions)).toEqual([
      'public.answer()',
      'public.archive(date)',
      'public.is_admin(text)',
      'public.is_admin(uuid, integer)',
      'public.total_of(integer)',
      'public.touch()',
    ]);
    expect(Object.keys(model.types)).toEqual(['public.email', 'public.mood', 'public.price']);
  });

  it('reads enums in sort order, domains and composite types (not row types)', () => {
    expect(model.types['public.mood']).toEqual({
      schema: 'public',
      name: 'mood',
      owner: 'postgres',
      comment: 'How it feels',
      kind: 'enum',
      labels: ['happy', 'meh', 'sad'],
    });
    expect(model.types['public.email']).toEqual({
      schema: 'public',
      name: 'email',
      owner: 'postgres',
      comment: 'An address',
      kind: 'domain',
      baseType: 'text',
      notNull: true,
      default: "'nobody@example.com'::text",
      collation: '"C"',
      checks: [{ name: 'email_check', definition: "CHECK ((VALUE ~ '@'::text))" }],
    });
    expect(model.types['public.price']).toEqual({
      schema: 'public',
      name: 'price',
      owner: 'postgres',
      comment: 'Amount and currency',
      kind: 'composite',
      attributes: [
        { name: 'amount', type: 'numeric(12,2)', collation: null },
        { name: 'currency', type: 'text', collation: '"C"' },
      ],
    });
  });

  it('reads every sequence, identity and serial ones with the column that owns them', () => {
    expect(Object.keys(model.sequences)).toEqual([
      'api.counter',
      'public."Order_id_seq"',
      'public."Order_number_seq"',
    ]);
    expect(model.sequences['api.counter']).toEqual({
      schema: 'api',
      name: 'counter',
      owner: 'postgres',
      dataType: 'integer',
      start: '10',
      increment: '5',
      min: '1',
      max: '100',
      cache: '1',
      cycle: true,
      ownedBy: null,
      comment: 'Counts by five',
      grants: grants(['postgres'], SEQUENCE_PRIVILEGES),
    });
    expect(model.sequences['public."Order_id_seq"']).toEqual({
      schema: 'public',
      name: 'Order_id_seq',
      owner: 'postgres',
      dataType: 'bigint',
      start: '1',
      increment: '1',
      min: '1',
      max: '9223372036854775807',
      cache: '1',
      cycle: false,
      ownedBy: 'public."Order".id',
      comment: null,
      grants: grants(['postgres', ...API_ROLES], SEQUENCE_PRIVILEGES),
    });
    expect(model.sequences['public."Order_number_seq"']?.ownedBy).toBe('public."Order".number');
  });

  it('reads a table with its columns, constraints, indexes, trigger, policies and grants', () => {
    expect(model.tables['public.profiles']).toEqual({
      schema: 'public',
      name: 'profiles',
      kind: 'table',
      owner: 'postgres',
      managed: false,
      rlsEnabled: true,
      rlsForced: true,
      partitionKey: null,
      partitionOf: null,
      partitionBound: null,
      replicaIdentity: 'default',
      comment: 'One row per user',
      columns: [
        {
          name: 'id',
          type: 'uuid',
          notNull: true,
          default: null,
          identity: null,
          generated: null,
          collation: null,
          comment: null,
          grants: [{ grantee: 'anon', privilege: 'SELECT', grantable: false }],
        },
        {
          name: 'username',
          type: 'text',
          notNull: true,
          default: null,
          identity: null,
          generated: null,
          collation: null,
          comment: 'Public handle',
          grants: [{ grantee: 'anon', privilege: 'SELECT', grantable: false }],
        },
        {
          name: 'mood',
          type: 'public.mood',
          notNull: false,
          default: "'happy'::public.mood",
          identity: null,
          generated: null,
          collation: null,
          comment: null,
          grants: [],
        },
        {
          name: 'email',
          type: 'public.email',
          notNull: false,
          default: null,
          identity: null,
          generated: null,
          collation: null,
          comment: null,
          grants: [],
        },
        {
          name: 'created_at',
          type: 'timestamp with time zone',
          notNull: true,
          default: 'now()',
          identity: null,
          generated: null,
          collation: null,
          comment: null,
          grants: [],
        },
      ],
      constraints: {
        profiles_id_fkey: {
          name: 'profiles_id_fkey',
          type: 'foreign key',
          definition: 'FOREIGN KEY (id) REFERENCES auth.users(id) ON DELETE CASCADE',
          columns: ['id'],
          validated: true,
          deferrable: false,
          initiallyDeferred: false,
          references: { table: 'auth.users', columns: ['id'], onUpdate: 'no action', onDelete: 'cascade' },
          comment: null,
        },
        profiles_pkey: {
          name: 'profiles_pkey',
          type: 'primary key',
          definition: 'PRIMARY KEY (id)',
          columns: ['id'],
          validated: true,
          deferrable: false,
          initiallyDeferred: false,
          references: null,
          comment: null,
        },
        profiles_username_key: {
          name: 'profiles_username_key',
          type: 'unique',
          definition: 'UNIQUE (username)',
          columns: ['username'],
          validated: true,
          deferrable: false,
          initiallyDeferred: false,
          references: null,
          comment: null,
        },
      },
      indexes: {
        profiles_pkey: {
          name: 'profiles_pkey',
          definition: 'CREATE UNIQUE INDEX profiles_pkey ON public.profiles USING btree (id)',
          unique: true,
          primary: true,
          constraint: 'profiles_pkey',
          columns: ['id'],
          valid: true,
          comment: null,
        },
        profiles_username_key: {
          name: 'profiles_username_key',
          definition: 'CREATE UNIQUE INDEX profiles_username_key ON public.profiles USING btree (username)',
          unique: true,
          primary: false,
          constraint: 'profiles_username_key',
          columns: ['username'],
          valid: true,
          comment: null,
        },
      },
      triggers: {
        profiles_touch: {
          name: 'profiles_touch',
          definition:
            'CREATE TRIGGER profiles_touch BEFORE UPDATE ON public.profiles FOR EACH ROW EXECUTE FUNCTION public.touch()',
          function: 'public.touch()',
          enabled: 'disabled',
          comment: 'Keeps created_at fresh',
        },
      },
      policies: {
        'owners update': {
          name: 'owners update',
          table: 'public.profiles',
          command: 'UPDATE',
          permissive: false,
          roles: ['authenticated', 'service_role'],
          using: '(( SELECT auth.uid() AS uid) = id)',
          withCheck: "(username <> ''::text)",
          comment: null,
        },
        'profiles are public': {
          name: 'profiles are public',
          table: 'public.profiles',
          command: 'SELECT',
          permissive: true,
          roles: ['PUBLIC'],
          using: 'true',
          withCheck: null,
          comment: 'Anyone may read',
        },
      },
      grants: PUBLIC_TABLE_GRANTS,
      stats: { estimatedRows: 0, pages: 0 },
    });
  });

  it('quotes identities as PostgreSQL does and reads identity, serial, generated and collated columns', () => {
    const order = model.tables['public."Order"'];
    expect(order).toMatchObject({ schema: 'public', name: 'Order' });
    const column = (name: string) => order?.columns.find((c) => c.name === name);
    expect(order?.columns.map((c) => c.name)).toEqual([
      'id',
      'number',
      'quantity',
      'total',
      'label',
      'placed_at',
      'during',
    ]);
    expect(column('id')).toMatchObject({ type: 'bigint', notNull: true, default: null, identity: 'always' });
    expect(column('number')).toMatchObject({
      type: 'integer',
      notNull: true,
      default: `nextval('public."Order_number_seq"'::regclass)`,
      identity: null,
    });
    expect(column('total')).toEqual({
      name: 'total',
      type: 'numeric',
      notNull: false,
      default: null,
      identity: null,
      generated: '(quantity * 2)',
      collation: null,
      comment: null,
      grants: [],
    });
    expect(column('label')).toMatchObject({ type: 'text', collation: '"C"' });
    // Constants are rendered in fixed styles (UTC, ISO), whatever the session's settings.
    expect(column('placed_at')?.default).toBe("'2024-01-01 00:00:00+00'::timestamp with time zone");
  });

  it('reads exclusion constraints and the index behind them', () => {
    const order = model.tables['public."Order"'];
    expect(order?.constraints.Order_no_overlap).toEqual({
      name: 'Order_no_overlap',
      type: 'exclusion',
      definition: 'EXCLUDE USING gist (during WITH &&)',
      columns: ['during'],
      validated: true,
      deferrable: false,
      initiallyDeferred: false,
      references: null,
      comment: null,
    });
    expect(order?.indexes.Order_no_overlap).toEqual({
      name: 'Order_no_overlap',
      definition: 'CREATE INDEX "Order_no_overlap" ON public."Order" USING gist (during)',
      unique: false,
      primary: false,
      constraint: 'Order_no_overlap',
      columns: ['during'],
      valid: true,
      comment: null,
    });
  });

  it('reads NOT VALID foreign keys, commented checks, partial, expression and invalid indexes', () => {
    const items = model.tables['public.order_items'];
    expect(items?.constraints.order_items_order_fk).toEqual({
      name: 'order_items_order_fk',
      type: 'foreign key',
      definition: 'FOREIGN KEY (order_id) REFERENCES public."Order"(id) ON DELETE CASCADE NOT VALID',
      columns: ['order_id'],
      validated: false,
      deferrable: false,
      initiallyDeferred: false,
      references: { table: 'public."Order"', columns: ['id'], onUpdate: 'no action', onDelete: 'cascade' },
      comment: null,
    });
    expect(items?.constraints.positive_id).toEqual({
      name: 'positive_id',
      type: 'check',
      definition: 'CHECK ((id > 0))',
      columns: ['id'],
      validated: true,
      deferrable: false,
      initiallyDeferred: false,
      references: null,
      comment: 'Ids are positive',
    });
    expect(items?.indexes).toEqual({
      order_items_pkey: {
        name: 'order_items_pkey',
        definition: 'CREATE UNIQUE INDEX order_items_pkey ON public.order_items USING btree (id)',
        unique: true,
        primary: true,
        constraint: 'order_items_pkey',
        columns: ['id'],
        valid: true,
        comment: null,
      },
      order_items_sku_lower: {
        name: 'order_items_sku_lower',
        definition:
          'CREATE INDEX order_items_sku_lower ON public.order_items USING btree (lower(sku)) WHERE (sku IS NOT NULL)',
        unique: false,
        primary: false,
        constraint: null,
        columns: ['lower(sku)'],
        valid: true,
        comment: 'Case-insensitive SKU lookup',
      },
      order_items_sku_unique: {
        name: 'order_items_sku_unique',
        definition: 'CREATE UNIQUE INDEX order_items_sku_unique ON public.order_items USING btree (sku)',
        unique: true,
        primary: false,
        constraint: null,
        columns: ['sku'],
        valid: false,
        comment: null,
      },
    });
    // Analyzed: two rows on one page.
    expect(items?.stats).toEqual({ estimatedRows: 2, pages: 1 });
  });

  it('reads partitioned tables and partitions, without the copies PostgreSQL makes on partitions', () => {
    expect(model.tables['public.events']).toMatchObject({
      kind: 'partitioned',
      partitionKey: 'RANGE (at)',
      partitionOf: null,
      partitionBound: null,
      replicaIdentity: 'full',
      constraints: { events_pkey: { type: 'primary key', columns: ['id', 'at'] } },
      indexes: {
        events_pkey: {
          definition: 'CREATE UNIQUE INDEX events_pkey ON ONLY public.events USING btree (id, at)',
          primary: true,
        },
      },
      triggers: { events_touch: { function: 'public.touch()', enabled: 'origin' } },
    });
    expect(model.tables['public.events_2024']).toMatchObject({
      kind: 'table',
      partitionKey: null,
      partitionOf: 'public.events',
      partitionBound: "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
      replicaIdentity: 'default',
      // The partition's primary key, its index and its trigger are clones of the parent's.
      constraints: {},
      indexes: {},
      triggers: {},
    });
    expect(model.tables['public.events_2024']?.columns.map((c) => [c.name, c.type, c.notNull])).toEqual([
      ['id', 'bigint', true],
      ['at', 'date', true],
    ]);
  });

  it('reads the tracked managed tables for their RLS, policies and grants only', () => {
    expect(model.tables['storage.objects']).toEqual({
      schema: 'storage',
      name: 'objects',
      kind: 'table',
      owner: 'postgres',
      managed: true,
      rlsEnabled: true,
      rlsForced: false,
      partitionKey: null,
      partitionOf: null,
      partitionBound: null,
      replicaIdentity: 'default',
      comment: null,
      columns: [],
      constraints: {},
      indexes: {},
      triggers: {},
      policies: {
        'own avatars': {
          name: 'own avatars',
          table: 'storage.objects',
          command: 'SELECT',
          permissive: true,
          roles: ['authenticated'],
          using: "((bucket_id = 'avatars'::text) AND (owner = ( SELECT auth.uid() AS uid)))",
          withCheck: null,
          comment: null,
        },
      },
      grants: PUBLIC_TABLE_GRANTS,
      stats: { estimatedRows: 0, pages: 0 },
    });
    expect(model.tables['storage.buckets']).toMatchObject({ managed: true, rlsEnabled: true, columns: [] });
    // Realtime Authorization's table: a partitioned managed table, read the same way.
    expect(model.tables['realtime.messages']).toMatchObject({
      managed: true,
      kind: 'partitioned',
      rlsEnabled: true,
      columns: [],
      policies: {},
    });
    // Other tables of managed schemas are not read (auth.users is, for the app's triggers), nor are the managed schemas' functions.
    expect(Object.keys(model.tables)).toEqual([
      'api.notes',
      'auth.users',
      'public."Order"',
      'public.events',
      'public.events_2024',
      'public.order_items',
      'public.profiles',
      'realtime.messages',
      'storage.buckets',
      'storage.objects',
    ]);
  });

  it('reads views with their options, columns and grants', () => {
    expect(model.views['public.public_profiles']).toEqual({
      schema: 'public',
      name: 'public_profiles',
      kind: 'view',
      owner: 'postgres',
      definition: ' SELECT profiles.id,\n    profiles.username\n   FROM public.profiles;',
      securityInvoker: true,
      securityBarrier: false,
      checkOption: null,
      comment: 'The API view',
      columns: [
        { name: 'id', type: 'uuid', comment: null },
        { name: 'username', type: 'text', comment: 'Handle' },
      ],
      indexes: {},
      grants: grants(['postgres', 'authenticated', 'service_role'], TABLE_PRIVILEGES),
      populated: true,
    });
    expect(model.views['public.named_profiles']).toMatchObject({
      kind: 'view',
      securityInvoker: false,
      securityBarrier: true,
      checkOption: 'local',
      definition:
        " SELECT profiles.id,\n    profiles.username\n   FROM public.profiles\n  WHERE profiles.username <> ''::text;",
    });
  });

  it('reads materialized views WITH NO DATA and their indexes', () => {
    expect(model.views['public.order_counts']).toEqual({
      schema: 'public',
      name: 'order_counts',
      kind: 'materialized',
      owner: 'postgres',
      definition:
        ' SELECT order_items.order_id,\n    count(*) AS items\n   FROM public.order_items\n  GROUP BY order_items.order_id;',
      securityInvoker: false,
      securityBarrier: false,
      checkOption: null,
      comment: 'Items per order',
      columns: [
        { name: 'order_id', type: 'bigint', comment: null },
        { name: 'items', type: 'bigint', comment: null },
      ],
      indexes: {
        order_counts_order_id: {
          name: 'order_counts_order_id',
          definition:
            'CREATE UNIQUE INDEX order_counts_order_id ON public.order_counts USING btree (order_id)',
          unique: true,
          primary: false,
          constraint: null,
          columns: ['order_id'],
          valid: true,
          comment: null,
        },
      },
      grants: PUBLIC_TABLE_GRANTS,
      populated: false,
    });
  });

  it('reads functions keyed by argument types, with their settings and EXECUTE grants', () => {
    expect(model.functions['public.is_admin(uuid, integer)']).toEqual({
      schema: 'public',
      name: 'is_admin',
      kind: 'function',
      identityArguments: 'p_user uuid, p_level integer',
      arguments: 'p_user uuid, p_level integer DEFAULT 1',
      returns: 'boolean',
      language: 'sql',
      body: ' select exists (select 1 from public.profiles where id = p_user) ',
      definition:
        "CREATE OR REPLACE FUNCTION public.is_admin(p_user uuid, p_level integer DEFAULT 1)\n RETURNS boolean\n LANGUAGE sql\n STABLE SECURITY DEFINER\n SET search_path TO ''\nAS $function$ select exists (select 1 from public.profiles where id = p_user) $function$\n",
      volatility: 'stable',
      securityDefiner: true,
      strict: false,
      leakproof: false,
      parallel: 'unsafe',
      config: ['search_path=""'],
      owner: 'postgres',
      comment: 'Is the user an admin?',
      // Revoked from PUBLIC and anon; authenticated granted; service_role from default privileges.
      grants: grants(['authenticated', 'postgres', 'service_role'], ['EXECUTE']),
    });
    expect(model.functions['public.is_admin(text)']).toMatchObject({
      identityArguments: 'p_user text',
      volatility: 'immutable',
      strict: true,
      parallel: 'safe',
      securityDefiner: false,
      config: [],
      grants: grants(['PUBLIC', 'postgres', ...API_ROLES], ['EXECUTE']),
    });
  });

  it('reads procedures, aggregates and trigger functions', () => {
    expect(model.functions['public.archive(date)']).toMatchObject({
      kind: 'procedure',
      identityArguments: 'IN p_before date',
      returns: null,
      language: 'plpgsql',
      body: ' begin delete from public.events where at < p_before; end ',
      definition:
        'CREATE OR REPLACE PROCEDURE public.archive(IN p_before date)\n LANGUAGE plpgsql\nAS $procedure$ begin delete from public.events where at < p_before; end $procedure$\n',
      comment: 'Drops old events',
    });
    expect(model.functions['public.total_of(integer)']).toMatchObject({
      kind: 'aggregate',
      identityArguments: 'integer',
      returns: 'integer',
      definition: null,
    });
    expect(model.functions['public.touch()']).toMatchObject({ kind: 'function', returns: 'trigger' });
    // A SQL-standard body has no prosrc: the deparsed body instead.
    expect(model.functions['public.answer()']).toMatchObject({
      kind: 'function',
      language: 'sql',
      body: 'BEGIN ATOMIC\n SELECT 42;\nEND',
      definition:
        'CREATE OR REPLACE FUNCTION public.answer()\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE\nBEGIN ATOMIC\n SELECT 42;\nEND\n',
    });
  });

  it('reads default privileges: for every schema, and per schema', () => {
    expect(model.defaultPrivileges).toEqual([
      { role: 'postgres', schema: null, objectType: 'functions', grants: grants(['postgres'], ['EXECUTE']) },
      {
        role: 'postgres',
        schema: 'api',
        objectType: 'tables',
        grants: [{ grantee: 'anon', privilege: 'SELECT', grantable: false }],
      },
      { role: 'postgres', schema: 'public', objectType: 'functions', grants: grants(API_ROLES, ['EXECUTE']) },
      {
        role: 'postgres',
        schema: 'public',
        objectType: 'sequences',
        grants: grants(API_ROLES, SEQUENCE_PRIVILEGES),
      },
      {
        role: 'postgres',
        schema: 'public',
        objectType: 'tables',
        grants: grants(API_ROLES, TABLE_PRIVILEGES),
      },
    ]);
    // And tables created since in api get them.
    expect(model.tables['api.notes']?.grants).toEqual([
      { grantee: 'anon', privilege: 'SELECT', grantable: false },
      ...grants(['postgres'], TABLE_PRIVILEGES),
    ]);
  });

  it('reads publications with their tables and operations', () => {
    expect(model.publications).toEqual({
      api_changes: {
        name: 'api_changes',
        allTables: false,
        tables: ['api.notes'],
        operations: { insert: true, update: true, delete: true, truncate: true },
      },
      audit: {
        name: 'audit',
        allTables: false,
        tables: ['public."Order"', 'public.order_items'],
        operations: { insert: true, update: false, delete: true, truncate: false },
      },
      supabase_realtime: {
        name: 'supabase_realtime',
        allTables: false,
        tables: ['public.profiles'],
        operations: { insert: true, update: true, delete: true, truncate: true },
      },
    });
  });

  it('reads cron jobs, keying unnamed ones by id, and storage buckets', () => {
    expect(model.cronJobs).toEqual({
      'job-2': {
        name: 'job-2',
        schedule: '*/5 * * * *',
        command: 'select 1',
        // A job of the database itself: no name (the shadow's database has another).
        database: '',
        username: 'postgres',
        active: false,
      },
      'nightly-vacuum': {
        name: 'nightly-vacuum',
        schedule: '0 3 * * *',
        command: 'vacuum',
        database: '',
        username: 'postgres',
        active: true,
      },
    });
    expect(model.buckets).toEqual({
      avatars: {
        id: 'avatars',
        name: 'avatars',
        public: true,
        fileSizeLimit: 1048576,
        allowedMimeTypes: ['image/png', 'image/jpeg'],
      },
      private: { id: 'private', name: 'private', public: false, fileSizeLimit: null, allowedMimeTypes: null },
    });
  });

  it('is deterministic: the same database gives deep-equal models with sorted keys', async () => {
    const again = await read(db);
    expect(again).toEqual(model);
    expect(JSON.stringify(again)).toBe(JSON.stringify(model));
    for (const record of [model.tables, model.functions, model.types, model.sequences, model.views]) {
      const keys = Object.keys(record);
      expect(keys).toEqual([...keys].sort());
    }
  });

  it("does not depend on the session's search_path or display settings, and leaves them as they were", async () => {
    const connection = await connect(db.url);
    try {
      await connection.client.query(
        "SET search_path = public, extensions; SET TimeZone = 'America/New_York'; SET DateStyle = 'SQL, DMY'; SET extra_float_digits = 0",
      );
      expect(await introspect(connection.client)).toEqual(model);
      const settings = await connection.client.query<{ search_path: string; tz: string }>(
        "SELECT current_setting('search_path') AS search_path, current_setting('TimeZone') AS tz",
      );
      expect(settings.rows[0]).toEqual({ search_path: 'public, extensions', tz: 'America/New_York' });
      // The transaction is over: the connection can go on.
      const status = await connection.client.query<{ isolation: string }>(
        "SELECT current_setting('transaction_isolation') AS isolation",
      );
      expect(status.rows[0]?.isolation).toBe('read committed');
    } finally {
      await disconnect(connection);
    }
  });

  it('works on a read-only connection', async () => {
    expect(await read(db, undefined, { connect: { readOnly: true } })).toEqual(model);
  });

  it('reads only the schemas and managed tables asked for', async () => {
    const only = await read(db, { schemas: ['api'], policyTables: ['storage.objects'] });
    expect(Object.keys(only.schemas)).toEqual(['api']);
    expect(Object.keys(only.tables)).toEqual(['api.notes', 'storage.objects']);
    expect(Object.keys(only.sequences)).toEqual(['api.counter']);
    expect(only.functions).toEqual({});
    expect(only.types).toEqual({});
    expect(only.views).toEqual({});
    expect(only.defaultPrivileges.map((d) => [d.schema, d.objectType])).toEqual([
      [null, 'functions'],
      ['api', 'tables'],
    ]);
    expect((await read(db, { policyTables: [] })).tables['storage.objects']).toBeUndefined();
  });
});

describe('introspect: physical attributes, inheritance, view defaults and triggers, publication filters', () => {
  let db: TestDatabase;
  let model: SchemaModel;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.query(`
      create table public.parent (id int not null, note text);
      create unlogged table public.child (extra text, note text) inherits (public.parent) with (fillfactor = 70, toast.autovacuum_enabled = false);
      alter table public.child alter column extra set statistics 300, alter column extra set storage main;
      create table public.plain (id int, body text);
      create view public.v as select id, body from public.plain;
      alter view public.v alter column body set default 'none';
      create function public.v_insert() returns trigger language plpgsql as $$ begin return new; end $$;
      create trigger v_insert instead of insert on public.v for each row execute function public.v_insert();
      create materialized view public.mv with (fillfactor = 50) as select id from public.plain;
      create publication filtered for table public.plain (id) where (id > 1), only public.parent;
      create type public.floatrange as range (subtype = float8);
    `);
    model = await read(db);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("reads UNLOGGED, storage parameters (the TOAST table's too) and INHERITS, absent at their defaults", () => {
    const child = model.tables['public.child'];
    expect(child).toMatchObject({
      persistence: 'unlogged',
      storageParameters: ['fillfactor=70', 'toast.autovacuum_enabled=false'],
      inherits: ['public.parent'],
    });
    const parent = model.tables['public.parent'] as object;
    expect(Object.keys(parent)).not.toContain('persistence');
    expect(Object.keys(parent)).not.toContain('storageParameters');
    expect(Object.keys(parent)).not.toContain('inherits');
  });

  it("reads a column's statistics target, storage, and what it inherits from which parent", () => {
    const columns = model.tables['public.child']?.columns ?? [];
    expect(
      columns.map((c) => [c.name, c.inherited ?? null, c.statistics ?? null, c.storage ?? null]),
    ).toEqual([
      ['id', { from: ['public.parent'], local: false }, null, null],
      ['note', { from: ['public.parent'], local: true }, null, null],
      ['extra', null, 300, 'main'],
    ]);
    expect(model.tables['public.parent']?.columns.every((c) => c.inherited === undefined)).toBe(true);
  });

  it("reads a view's column defaults and INSTEAD OF triggers, a materialized view's storage parameters", () => {
    const view = model.views['public.v'];
    expect(view?.columns).toEqual([
      { name: 'id', type: 'integer', comment: null },
      { name: 'body', type: 'text', comment: null, default: "'none'::text" },
    ]);
    expect(view?.triggers?.v_insert).toMatchObject({
      definition:
        'CREATE TRIGGER v_insert INSTEAD OF INSERT ON public.v FOR EACH ROW EXECUTE FUNCTION public.v_insert()',
      function: 'public.v_insert()',
    });
    expect(model.views['public.mv']?.storageParameters).toEqual(['fillfactor=50']);
  });

  it('reads publication column lists and row filters (PostgreSQL 15+)', () => {
    const publication = model.publications.filtered;
    expect(publication?.tables).toEqual(['public.parent', 'public.plain']);
    if (model.serverVersion < 150000) return;
    expect(publication?.columnLists).toEqual({ 'public.plain': ['id'] });
    expect(publication?.rowFilters).toEqual({ 'public.plain': '(id > 1)' });
  });

  it("does not read a range type's constructors as functions", () => {
    expect(Object.keys(model.functions)).toEqual(['public.v_insert()']);
  });
});

describe('introspect: grants', () => {
  let db: TestDatabase;
  // Roles are cluster-wide: unique names, dropped afterwards. One needs quoting in an ACL.
  const suffix = randomBytes(4).toString('hex');
  const quoted = `Grant "tester" ${suffix}`;
  const plain = `grant_tester_${suffix}`;
  const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.query(`
      create role ${ident(quoted)} nologin;
      create role ${ident(plain)} nologin;
      create table public.shared (id int, secret text);
      revoke all on public.shared from anon, authenticated, service_role;
      grant select, insert on public.shared to ${ident(quoted)};
      grant select on public.shared to ${ident(plain)} with grant option;
      grant update (secret) on public.shared to ${ident(quoted)} with grant option;
      -- One privilege to one grantee from two grantors, grantable from the first only.
      set role ${ident(plain)};
      grant select on public.shared to anon with grant option;
      reset role;
      grant select on public.shared to anon;
      grant select on public.shared to public;
    `);
  });
  afterAll(async () => {
    await db.drop();
    // The roles held privileges only in the dropped database: they can go now.
    const admin = new pg.Client({ connectionString: inject('serverUrl') });
    await admin.connect();
    try {
      await admin.query(`drop role if exists ${ident(quoted)}; drop role if exists ${ident(plain)}`);
    } finally {
      await admin.end();
    }
  });

  it('expands ACLs like aclexplode: PUBLIC, quoted role names, grant options, one entry per grantor-merged privilege', async () => {
    const model = await read(db);
    const shared = model.tables['public.shared'];
    expect(shared?.grants).toEqual([
      { grantee: quoted, privilege: 'INSERT', grantable: false },
      { grantee: quoted, privilege: 'SELECT', grantable: false },
      { grantee: 'PUBLIC', privilege: 'SELECT', grantable: false },
      { grantee: 'anon', privilege: 'SELECT', grantable: true },
      { grantee: plain, privilege: 'SELECT', grantable: true },
      ...grants(['postgres'], TABLE_PRIVILEGES),
    ]);
    expect(shared?.columns.find((c) => c.name === 'secret')?.grants).toEqual([
      { grantee: quoted, privilege: 'UPDATE', grantable: true },
    ]);
    expect(shared?.columns.find((c) => c.name === 'id')?.grants).toEqual([]);
  });
});

describe('introspect: at scale', () => {
  let db: TestDatabase;
  const TABLES = 300;

  beforeAll(async () => {
    db = await createTestDatabase();
    const script = [
      'create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;',
    ];
    for (let i = 0; i < TABLES; i++) {
      const t = `public.item_${i}`;
      script.push(`
        create table ${t} (
          id bigint generated always as identity primary key, owner uuid not null, title text not null default '',
          body text, amount numeric(10,2), created_at timestamptz not null default now(), tags text[], meta jsonb
        );
        create index item_${i}_owner_idx on ${t} (owner);
        alter table ${t} enable row level security;
        create policy "read own" on ${t} for select to authenticated using (owner = (select auth.uid()));
        create policy "write own" on ${t} for insert to authenticated with check (owner = (select auth.uid()));
        grant select (id, title) on ${t} to anon;
        ${i % 2 === 0 ? `revoke delete, truncate on ${t} from anon;` : ''}
        create trigger touch before update on ${t} for each row execute function public.touch();`);
    }
    await db.query(script.join('\n'));
  });
  afterAll(async () => {
    await db.drop();
  });

  it('reads every table with its members, grants matching aclexplode', async () => {
    const model = await read(db);
    const items = Object.entries(model.tables).filter(([id]) => id.startsWith('public.item_'));
    expect(items).toHaveLength(TABLES);
    expect(Object.keys(model.sequences)).toHaveLength(TABLES);
    for (const [id, table] of items) {
      expect(
        table.columns.map((c) => c.name),
        id,
      ).toEqual(['id', 'owner', 'title', 'body', 'amount', 'created_at', 'tags', 'meta']);
      expect(Object.keys(table.indexes), id).toEqual([`${table.name}_owner_idx`, `${table.name}_pkey`]);
      expect(Object.keys(table.constraints), id).toEqual([`${table.name}_pkey`]);
      expect(Object.keys(table.policies), id).toEqual(['read own', 'write own']);
      expect(table.triggers.touch?.function, id).toBe('public.touch()');
      expect(table.rlsEnabled, id).toBe(true);
      expect(table.columns[2]?.grants, id).toEqual([
        { grantee: 'anon', privilege: 'SELECT', grantable: false },
      ]);
    }

    // Every ACL, table and column, against PostgreSQL's own aclexplode().
    const rows = await db.query<{ id: string; column: string | null; grants: Grant[] }>(`
      select format('%I.%I', n.nspname, c.relname) as id, null as column,
             (select json_agg(json_build_object('grantee', g.grantee, 'privilege', g.privilege, 'grantable', g.grantable)
                              order by g.grantee collate "C", g.privilege collate "C")
                from (select case when x.grantee = 0 then 'PUBLIC' else pg_get_userbyid(x.grantee)::text end as grantee,
                             x.privilege_type as privilege, bool_or(x.is_grantable) as grantable
                        from aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) x group by 1, 2) g) as grants
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r'
      union all
      select format('%I.%I', n.nspname, c.relname), a.attname,
             (select coalesce(json_agg(json_build_object('grantee', g.grantee, 'privilege', g.privilege, 'grantable', g.grantable)
                              order by g.grantee collate "C", g.privilege collate "C"), '[]')
                from (select case when x.grantee = 0 then 'PUBLIC' else pg_get_userbyid(x.grantee)::text end as grantee,
                             x.privilege_type as privilege, bool_or(x.is_grantable) as grantable
                        from aclexplode(a.attacl) x group by 1, 2) g)
        from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid
       where n.nspname = 'public' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped`);
    expect(rows.length).toBe(TABLES * 9);
    for (const row of rows) {
      const table = model.tables[row.id];
      const actual =
        row.column === null ? table?.grants : table?.columns.find((c) => c.name === row.column)?.grants;
      expect(actual, `${row.id} ${row.column ?? ''}`).toEqual(row.grants);
    }
    expect(
      model.tables['public.item_0']?.grants.filter((g) => g.grantee === 'anon').map((g) => g.privilege),
    ).toEqual(['INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'UPDATE']);
  });
});
