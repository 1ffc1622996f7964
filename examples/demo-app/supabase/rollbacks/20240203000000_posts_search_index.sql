-- Rollback of 20240203000000_posts_search_index.sql.
-- DROP INDEX CONCURRENTLY cannot run inside a transaction block either: it is
-- alone in its file and applied outside a transaction.
drop index concurrently if exists public.posts_title_idx;
