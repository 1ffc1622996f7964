-- Comments on posts.
--
-- Anyone can read the comments of a published post; signed-in users can
-- comment as themselves. New comments are streamed to clients through
-- Supabase Realtime.

create table public.comments (
  id         bigint generated always as identity primary key,
  post_id    bigint not null references public.posts (id) on delete cascade,
  author_id  uuid not null references public.profiles (id) on delete cascade,
  body       text not null check (length(body) between 1 and 2000),
  created_at timestamptz not null default now()
);

comment on table public.comments is 'Comments on published posts.';

-- Comments are always loaded per post.
create index comments_post_id_idx on public.comments (post_id);

alter table public.comments enable row level security;

-- The subquery on posts is itself subject to the RLS policies of posts.
create policy "Comments on published posts are viewable by everyone"
  on public.comments for select
  to anon, authenticated
  using (
    exists (
      select 1
      from public.posts p
      where p.id = comments.post_id
        and p.published
    )
  );

create policy "Users can comment as themselves"
  on public.comments for insert
  to authenticated
  with check ((select auth.uid()) = author_id);

-- Broadcast inserts/updates/deletes on comments to Realtime subscribers.
alter publication supabase_realtime add table public.comments;
