-- =============================================================================
-- supabase-bootstrap.sql — make a plain PostgreSQL 15 database look like a
-- Supabase project database, for tests.
--
-- This file is NOT Supabase's real migration set. It was written by hand from
-- Supabase's documented behaviour and only reproduces what supagate's tests
-- rely on:
--   * the API roles anon / authenticated / service_role and the authenticator
--     login role that PostgREST switches from;
--   * the managed schemas auth, storage and extensions;
--   * auth.users and the RLS helpers auth.uid(), auth.role(), auth.jwt(), which
--     read the `request.jwt.claims` setting the way PostgREST sets it;
--   * storage.buckets / storage.objects with RLS enabled, plus the
--     storage.foldername / filename / extension helpers used in policies;
--   * Supabase-style grants and default privileges on schema public;
--   * an empty `supabase_realtime` publication, and realtime.messages (Realtime
--     Authorization policies go on it).
--
-- How it is used: run once, as a superuser, in a freshly created database
-- (normally a template database that every test database is cloned from with
-- CREATE DATABASE ... TEMPLATE ...). Roles are cluster-wide while everything
-- else is per database, so role creation is guarded and this file can be
-- applied to any number of databases on the same server (also concurrently).
-- Every statement is transactional, so the whole file may also be run as a
-- single transaction (psql -1, or one multi-statement simple query).
--
-- The cluster's superuser is expected to be called `postgres` (as on
-- Supabase); it is referenced by ALTER DEFAULT PRIVILEGES below and left as is.
-- =============================================================================

-- -----------------------------------------------------------------------------
-- Roles (cluster-wide: create only when missing)
-- -----------------------------------------------------------------------------
do $bootstrap$
declare
  r record;
begin
  for r in
    select * from (values
      ('anon',          'NOLOGIN NOINHERIT'),
      ('authenticated', 'NOLOGIN NOINHERIT'),
      ('service_role',  'NOLOGIN NOINHERIT BYPASSRLS'),
      -- PostgREST connects as authenticator and then SET ROLEs to one of the
      -- API roles. No password: test servers use trust authentication.
      ('authenticator', 'LOGIN NOINHERIT')
    ) as t(name, options)
  loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r.name) then
      begin
        execute format('create role %I %s', r.name, r.options);
      exception
        -- another database on this server is being bootstrapped at the same
        -- time and created the role first: that is fine.
        when duplicate_object or unique_violation then null;
      end;
    end if;
  end loop;
end
$bootstrap$;

-- authenticator may switch to each API role. (Re-granting an existing
-- membership would only raise a NOTICE; skip it to keep the output quiet.)
do $bootstrap$
declare
  api_role text;
begin
  foreach api_role in array array['anon', 'authenticated', 'service_role']
  loop
    if not exists (
      select 1
      from pg_catalog.pg_auth_members m
      join pg_catalog.pg_roles g on g.oid = m.roleid
      join pg_catalog.pg_roles u on u.oid = m.member
      where g.rolname = api_role and u.rolname = 'authenticator'
    ) then
      execute format('grant %I to authenticator', api_role);
    end if;
  end loop;
end
$bootstrap$;

-- -----------------------------------------------------------------------------
-- Schemas
-- -----------------------------------------------------------------------------
create schema if not exists extensions;
create schema if not exists auth;
create schema if not exists storage;
-- Schemas Supabase creates for its platform extensions: dumps create the extensions in them.
create schema if not exists graphql;
create schema if not exists graphql_public;
create schema if not exists vault;
create schema if not exists pgsodium;

grant usage on schema extensions to anon, authenticated, service_role;
grant usage on schema auth       to anon, authenticated, service_role;
grant usage on schema storage    to anon, authenticated, service_role;
grant usage on schema public     to anon, authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Extensions (Supabase installs them into the `extensions` schema)
-- -----------------------------------------------------------------------------
create extension if not exists pgcrypto    with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

-- -----------------------------------------------------------------------------
-- auth.users (the columns applications commonly reference)
-- -----------------------------------------------------------------------------
create table if not exists auth.users (
  -- gen_random_uuid() is built into PostgreSQL 13+ (pg_catalog), so the
  -- default does not depend on search_path.
  id                 uuid primary key default gen_random_uuid(),
  instance_id        uuid,
  aud                varchar(255),
  role               varchar(255),
  email              varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  raw_app_meta_data  jsonb,
  raw_user_meta_data jsonb,
  is_super_admin     boolean,
  created_at         timestamptz default now(),
  updated_at         timestamptz default now(),
  phone              text unique default null,
  is_anonymous       boolean not null default false,
  deleted_at         timestamptz
);

create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_email_idx on auth.users (email);

comment on table auth.users is
  'Test stand-in for Supabase Auth users (supagate bootstrap fixture).';

-- A user's sign-in identities (email, OAuth providers): apps put triggers on it too.
create table if not exists auth.identities (
  id            uuid primary key default gen_random_uuid(),
  user_id       uuid not null references auth.users (id) on delete cascade,
  provider      text not null,
  provider_id   text not null,
  identity_data jsonb not null default '{}',
  email         text generated always as (lower(identity_data ->> 'email')) stored,
  created_at    timestamptz default now(),
  updated_at    timestamptz default now(),
  unique (provider_id, provider)
);

-- -----------------------------------------------------------------------------
-- RLS helpers. PostgREST puts the verified JWT payload in the transaction-local
-- setting `request.jwt.claims` (older versions used one `request.jwt.claim.*`
-- setting per claim; those are honoured first, like Supabase does).
-- current_setting(name, true) returns NULL when the setting was never defined
-- but '' after a transaction-local value went out of scope, hence nullif().
-- -----------------------------------------------------------------------------
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

comment on function auth.uid()  is 'Deprecated in Supabase in favour of auth.jwt() ->> ''sub'', still the common idiom.';
comment on function auth.role() is 'Deprecated in Supabase in favour of auth.jwt() ->> ''role''.';
comment on function auth.jwt()  is 'The JWT claims of the current request, or NULL.';

grant execute on function auth.uid(), auth.role(), auth.jwt()
  to anon, authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Storage
-- -----------------------------------------------------------------------------
create table if not exists storage.buckets (
  id                 text primary key,
  name               text not null unique,
  owner              uuid,
  public             boolean default false,
  file_size_limit    bigint,
  allowed_mime_types text[],
  created_at         timestamptz default now(),
  updated_at         timestamptz default now()
);

create table if not exists storage.objects (
  id               uuid primary key default gen_random_uuid(),
  bucket_id        text references storage.buckets (id),
  name             text,
  owner            uuid,
  metadata         jsonb,
  path_tokens      text[] generated always as (string_to_array(name, '/')) stored,
  created_at       timestamptz default now(),
  updated_at       timestamptz default now(),
  last_accessed_at timestamptz default now(),
  version          text,
  -- Custom metadata given at upload (Storage's `metadata` option).
  user_metadata    jsonb
);

-- One object per path inside a bucket.
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

grant all on table storage.buckets to anon, authenticated, service_role;
grant all on table storage.objects to anon, authenticated, service_role;

-- Path helpers used in storage policies. For 'a/b/c.png':
--   storage.foldername -> {a,b}   storage.filename -> 'c.png'
--   storage.extension  -> 'png'   (empty string when the file has no dot)
create or replace function storage.foldername(name text) returns text[]
language sql immutable
as $$
  select (string_to_array(name, '/'))[1:cardinality(string_to_array(name, '/')) - 1]
$$;

create or replace function storage.filename(name text) returns text
language sql immutable
as $$
  select (string_to_array(name, '/'))[cardinality(string_to_array(name, '/'))]
$$;

create or replace function storage.extension(name text) returns text
language sql immutable
as $$
  select case
    when storage.filename(name) like '%.%'
      then reverse(split_part(reverse(storage.filename(name)), '.', 1))
    else ''
  end
$$;

grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
  to anon, authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Schema public: Supabase's grants and default privileges, so that objects
-- created by postgres (e.g. by migrations) are reachable by the API roles and
-- only RLS decides what they can see.
-- -----------------------------------------------------------------------------
grant all on all tables    in schema public to anon, authenticated, service_role;
grant all on all sequences in schema public to anon, authenticated, service_role;
grant execute on all functions in schema public to anon, authenticated, service_role;

alter default privileges for role postgres in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant execute on functions to anon, authenticated, service_role;

-- -----------------------------------------------------------------------------
-- Realtime: an empty publication, per database. Migrations add tables to it
-- with ALTER PUBLICATION supabase_realtime ADD TABLE ...
-- (With wal_level < logical PostgreSQL creates it anyway, with a WARNING.)
-- -----------------------------------------------------------------------------
-- Realtime Authorization: private channels are allowed by policies on
-- realtime.messages, which migrations write (realtime.topic() is the channel).
create schema if not exists realtime;
grant usage on schema realtime to anon, authenticated, service_role;
create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  primary key (id, inserted_at)
) partition by range (inserted_at);
alter table realtime.messages enable row level security;
grant select, insert, update on realtime.messages to anon, authenticated, service_role;
create or replace function realtime.topic() returns text language sql stable as $$
  select nullif(current_setting('realtime.topic', true), '')::text;
$$;
grant execute on function realtime.topic() to anon, authenticated, service_role;

do $bootstrap$
begin
  if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$bootstrap$;
