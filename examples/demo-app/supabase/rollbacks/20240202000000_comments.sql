-- Rollback of 20240202000000_comments.sql: remove comments from Realtime and
-- drop the table (its policies and indexes go with it).
-- DELETES ALL COMMENTS: restore from a backup if the data must be kept.
alter publication supabase_realtime drop table public.comments;

drop table public.comments;
