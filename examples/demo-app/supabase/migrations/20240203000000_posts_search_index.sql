-- Index for title lookups, built without blocking writes to posts.
--
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block, so it must
-- be the only statement in its migration file and is applied outside a
-- transaction. If it fails half way it can leave an INVALID index behind;
-- IF NOT EXISTS would then skip it, so drop the invalid index before retrying.
create index concurrently if not exists posts_title_idx on public.posts (title);
