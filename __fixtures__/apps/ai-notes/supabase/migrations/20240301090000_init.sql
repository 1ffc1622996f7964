-- Profiles created on sign-up, and notes. Defaults call extension functions without a
-- schema: on Supabase the roles' search_path includes `extensions`.
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text unique,
  invite_code text not null default encode(gen_random_bytes(9), 'hex'),
  created_at timestamptz not null default now()
);
alter table public.profiles enable row level security;
create policy "profiles are readable by their owner" on public.profiles
  for select to authenticated using ((select auth.uid()) = id);

create extension if not exists moddatetime schema extensions;

create table public.notes (
  id uuid primary key default uuid_generate_v4(),
  owner_id uuid not null references public.profiles (id) on delete cascade,
  body text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger handle_updated_at before update on public.notes
  for each row execute procedure moddatetime (updated_at);
alter table public.notes enable row level security;
create policy "owners manage their notes" on public.notes
  for all to authenticated using ((select auth.uid()) = owner_id) with check ((select auth.uid()) = owner_id);

create function public.handle_new_user() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, username) values (new.id, new.raw_user_meta_data ->> 'username');
  return new;
end;
$$;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.handle_new_user();
