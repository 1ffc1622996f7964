-- Rollback of 20240201000000_post_tags.sql: remove the tags column and its index.
-- Dropping the column would drop the index too; it is dropped explicitly for clarity.
drop index if exists public.posts_tags_idx;

alter table public.posts
  drop column if exists tags;
