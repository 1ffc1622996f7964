-- Public profile for every Supabase Auth user.
--
-- One row per auth.users row, keyed by the same id, so deleting a user in
-- Supabase Auth removes the profile too. Private account data stays in
-- auth.users; only what other users may see lives here.

create table public.profiles (
  id         uuid primary key references auth.users (id) on delete cascade,
  username   text unique,
  full_name  text,
  avatar_url text,
  updated_at timestamptz
);

comment on table public.profiles is 'Public profile data for each user.';

-- The table is exposed through the Data API, so RLS decides who sees what.
alter table public.profiles enable row level security;

-- Profiles are public: anyone, signed in or not, can read them.
create policy "Profiles are viewable by everyone"
  on public.profiles for select
  to anon, authenticated
  using (true);

-- auth.uid() is wrapped in a scalar subquery so Postgres evaluates it once per
-- statement instead of once per row.
create policy "Users can insert their own profile"
  on public.profiles for insert
  to authenticated
  with check ((select auth.uid()) = id);

create policy "Users can update their own profile"
  on public.profiles for update
  to authenticated
  using ((select auth.uid()) = id)
  with check ((select auth.uid()) = id);
