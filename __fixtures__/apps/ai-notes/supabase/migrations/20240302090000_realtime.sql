-- Re-create the Realtime publication, as Supabase's Realtime guide shows.
begin;
  drop publication if exists supabase_realtime;
  create publication supabase_realtime;
commit;

alter publication supabase_realtime add table public.notes;
