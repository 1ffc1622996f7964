create extension if not exists pg_cron with schema pg_catalog;
grant usage on schema cron to postgres;

select cron.schedule(
  'purge-old-notes',
  '0 3 * * *',
  $$delete from public.notes where created_at < now() - interval '90 days'$$
);
