create extension if not exists pg_net with schema extensions;
create schema if not exists vault;
create extension if not exists supabase_vault with schema vault;

select vault.create_secret('https://hooks.example.invalid/notes', 'notes_webhook_url', 'where note events are sent');

create function public.notify_note_created() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform net.http_post(
    url := (select decrypted_secret from vault.decrypted_secrets where name = 'notes_webhook_url'),
    body := jsonb_build_object('note_id', new.id, 'owner_id', new.owner_id)
  );
  return new;
end;
$$;

create trigger notes_webhook
  after insert on public.notes
  for each row execute function public.notify_note_created();
