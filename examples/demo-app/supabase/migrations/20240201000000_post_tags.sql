-- Tags on posts.
--
-- Adding a column with a constant default is a metadata-only change since
-- PostgreSQL 11: existing rows are not rewritten.
-- The GIN index serves array containment queries such as
--   select * from posts where tags @> array['postgres'];
-- It is built without CONCURRENTLY, so it blocks writes to posts while it is
-- built; fine for a small table.

alter table public.posts
  add column tags text[] not null default '{}';

create index posts_tags_idx on public.posts using gin (tags);
