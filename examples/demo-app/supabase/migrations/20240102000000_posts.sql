-- Blog posts written by users.
--
-- Drafts (published = false) are private to their author; published posts are
-- readable by everyone, including signed-out visitors.

create table public.posts (
  id         bigint generated always as identity primary key,
  author_id  uuid not null references public.profiles (id) on delete cascade,
  title      text not null,
  body       text,
  published  boolean not null default false,
  created_at timestamptz not null default now()
);

comment on table public.posts is 'Blog posts; drafts are visible to their author only.';

-- Foreign keys are not indexed automatically; the policies and the
-- "posts by author" page both filter on author_id.
create index posts_author_id_idx on public.posts (author_id);

alter table public.posts enable row level security;

-- Everyone can read published posts.
create policy "Published posts are viewable by everyone"
  on public.posts for select
  to anon, authenticated
  using (published);

-- Authors can read all of their own posts, drafts included.
create policy "Authors can view their own posts"
  on public.posts for select
  to authenticated
  using ((select auth.uid()) = author_id);

create policy "Authors can create posts"
  on public.posts for insert
  to authenticated
  with check ((select auth.uid()) = author_id);

create policy "Authors can update their own posts"
  on public.posts for update
  to authenticated
  using ((select auth.uid()) = author_id)
  with check ((select auth.uid()) = author_id);

create policy "Authors can delete their own posts"
  on public.posts for delete
  to authenticated
  using ((select auth.uid()) = author_id);
