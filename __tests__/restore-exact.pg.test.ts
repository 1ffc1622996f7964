import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { type RoundTrip, roundTrip } from './harness/round-trip.js';

/**
 * rollback --backup gives back the database exactly as the backup found it: after apply then
 * restore, `pg_dump --schema-only` and the content hash of every table equal those before the
 * apply, and the reverted migrations are pending again.
 */

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

describe('rollback --backup restores the exact state', () => {
  it('partitioned tables, range and list, with default partitions', async () => {
    trip = await roundTrip(db, {
      existing: {
        '1_events': `
create table public.events (id bigint not null, at date not null, kind text) partition by range (at);
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
create table public.events_default partition of public.events default;
create table public.regions (code text not null, name text) partition by list (code);
create table public.regions_eu partition of public.regions for values in ('de', 'fr');
create table public.regions_other partition of public.regions default;`,
      },
      seed: `insert into public.events select g, date '2024-01-01' + g, 'k' || g from generate_series(1, 500) g;
             insert into public.regions values ('de', 'Germany'), ('fr', 'France'), ('us', 'United States');`,
      underTest: {
        '2_more_partitions': `
create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
insert into public.events values (9001, '2026-05-01', 'new');
create table public.metrics (name text not null, value numeric) partition by list (name);
create table public.metrics_cpu partition of public.metrics for values in ('cpu');
create table public.metrics_rest partition of public.metrics default;
insert into public.metrics values ('cpu', 1), ('mem', 2);`,
      },
    });
  });

  it('a migration that creates its own schema: its tables, functions and policies go', async () => {
    trip = await roundTrip(db, {
      existing: { '1_profiles': 'create table public.profiles (id int primary key, name text);' },
      seed: `insert into public.profiles values (1, 'a'), (2, 'b');`,
      underTest: {
        '2_private': `
create schema private;
create table private.secrets (id int primary key, owner uuid, value text);
alter table private.secrets enable row level security;
create function private.is_owner(owner uuid) returns boolean language sql stable
  set search_path = '' as $$ select owner = auth.uid() $$;
create policy "owners read" on private.secrets for select to authenticated using (private.is_owner(owner));
grant usage on schema private to authenticated;
insert into private.secrets values (1, null, 'x');`,
      },
    });
    const [schema] = await db.query(`select to_regnamespace('private') is null as gone`);
    expect(schema).toEqual({ gone: true });
  });

  it('platform extensions, a managed schema created since and a trigger on auth.identities: gone', async () => {
    trip = await roundTrip(db, {
      existing: { '1_profiles': 'create table public.profiles (id uuid primary key, providers text[]);' },
      seed: `insert into public.profiles values ('00000000-0000-0000-0000-000000000001', '{}');`,
      underTest: {
        '2_platform': `
create extension if not exists vector with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;
create schema if not exists vault;
create extension if not exists supabase_vault with schema vault;
select vault.create_secret('s3cr3t', 'api_key');
create schema if not exists supabase_functions;
create table supabase_functions.hooks (id bigserial primary key, hook_name text not null);
select cron.schedule('refresh', '*/10 * * * *', 'select 1');
create table public.embeddings (id bigint primary key, embedding extensions.vector(3));
create function public.sync_providers() returns trigger language plpgsql security definer set search_path = '' as $$
begin update public.profiles set providers = array_append(providers, new.provider) where id = new.user_id; return new; end $$;
create trigger on_identity_created after insert on auth.identities for each row execute function public.sync_providers();`,
      },
    });
    expect(
      await db.query(
        `select extname from pg_extension where extname in ('vector', 'pg_cron', 'supabase_vault')`,
      ),
    ).toEqual([]);
    expect(await db.query(`select tgname from pg_trigger where tgname = 'on_identity_created'`)).toEqual([]);
    expect(await db.query(`select to_regnamespace('supabase_functions') is null as gone`)).toEqual([
      { gone: true },
    ]);
  });

  it('the first apply on a fresh project: the history it created is gone, the migration pending', async () => {
    trip = await roundTrip(db, {
      underTest: {
        '1_init':
          'create table public.items (id int primary key, name text);\ninsert into public.items values (1, $$a$$);',
      },
    });
    const [history] = await db.query(
      `select to_regclass('supabase_migrations.schema_migrations') is null as gone`,
    );
    expect(history).toEqual({ gone: true });
  });

  it('a trigger on auth.users calling a public function (handle_new_user) goes with its function', async () => {
    trip = await roundTrip(db, {
      existing: {
        '1_profiles':
          'create table public.profiles (id uuid primary key references auth.users (id) on delete cascade, email text);',
      },
      underTest: {
        '2_signup': `
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, email) values (new.id, new.email);
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();`,
      },
    });
    const [trigger] = await db.query(
      `select count(*)::int as n from pg_trigger where tgname = 'on_auth_user_created'`,
    );
    expect(trigger).toEqual({ n: 0 });
  });

  it('a trigger on auth.users from before the backup stays, calling the backup’s function', async () => {
    const handler = (column: string) => `
create or replace function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, ${column}) values (new.id, new.email);
  return new;
end $$;`;
    trip = await roundTrip(db, {
      existing: {
        '1_profiles': `create table public.profiles (id uuid primary key references auth.users (id) on delete cascade, email text, contact text);
${handler('email')}
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();`,
      },
      underTest: { '2_handler': handler('contact') },
    });
  });

  it('an extension created by a migration', async () => {
    trip = await roundTrip(db, {
      existing: { '1_names': 'create table public.names (id int primary key, name text);' },
      seed: `insert into public.names values (1, 'ada'), (2, 'grace');`,
      underTest: {
        '2_trgm': `create extension if not exists pg_trgm with schema extensions;
create index names_trgm on public.names using gin (name extensions.gin_trgm_ops);`,
      },
    });
    const [extension] = await db.query(
      `select count(*)::int as n from pg_extension where extname = 'pg_trgm'`,
    );
    expect(extension).toEqual({ n: 0 });
  });

  it('every common column type, cyclic foreign keys, storage rows and 200k rows', async () => {
    trip = await roundTrip(db, {
      existing: {
        '1_types': `
create type public.mood as enum ('sad', 'ok', 'happy');
create domain public.positive as numeric check (value > 0);
create table public.people (
  id bigint generated always as identity primary key,
  doc jsonb, tags text[], photo bytea, balance numeric(20, 6), seen timestamptz,
  mood public.mood, score public.positive,
  full_name text generated always as (coalesce(doc ->> 'first', '') || ' ' || coalesce(doc ->> 'last', '')) stored,
  best_friend bigint
);
create table public.teams (id serial primary key, captain bigint references public.people (id) deferrable initially deferred);
alter table public.people add constraint people_team_fk foreign key (best_friend) references public.people (id);
alter table public.people add column team int references public.teams (id) deferrable initially deferred;
create table public.big (id bigint primary key, payload text);`,
      },
      seed: `
insert into public.people (doc, tags, photo, balance, seen, mood, score)
  values ('{"first": "Ada", "last": "L", "n": [1, 2]}', '{a,"b c"}', '\\x00ff10', 12345.678901, '2024-02-29 12:34:56.789+02', 'happy', 3.5),
         ('{"first": "Émile"}', '{}', null, -0.000001, 'infinity', 'sad', 1);
insert into public.teams (captain) values (1);
update public.people set team = 1, best_friend = 2 where id = 1;
insert into public.big select g, md5(g::text) from generate_series(1, 200000) g;
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
insert into storage.objects (bucket_id, name) values ('avatars', 'ada.png');`,
      underTest: {
        '2_churn': `-- supagate:allow drop-column: the test restores it from the backup
-- supagate:allow drop-table: the test restores it from the backup
alter table public.people drop column photo;
delete from public.big where id % 2 = 0;
update public.people set balance = 0;
insert into public.people (doc, mood, score) values ('{}', 'ok', 2);
drop table public.teams cascade;
insert into storage.buckets (id, name) values ('docs', 'docs');`,
      },
    });
  }, 120_000);
});

describe('rollback --backup restores what migrations put on Supabase’s tables', () => {
  it('a bucket, storage policies, a Realtime policy and a publication membership', async () => {
    trip = await roundTrip(db, {
      existing: {
        '1_rooms': `create table public.rooms (id int primary key, name text);
alter publication supabase_realtime add table public.rooms;
insert into storage.buckets (id, name) values ('docs', 'docs');
create policy "docs readable" on storage.objects for select to authenticated using (bucket_id = 'docs');`,
      },
      seed: `insert into public.rooms values (1, 'lobby');`,
      underTest: {
        '2_avatars': `insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
create policy "avatars upload" on storage.objects for insert to authenticated with check (bucket_id = 'avatars');
drop policy "docs readable" on storage.objects;
create table public.messages (id int primary key, room int references public.rooms (id));
alter publication supabase_realtime add table public.messages;
alter publication supabase_realtime drop table public.rooms;
create policy "room members listen" on realtime.messages for select to authenticated using (realtime.topic() like 'room:%');`,
      },
    });
  });
});
