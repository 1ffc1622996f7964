-- Demo data for the "production" database of the demo app.
--
-- Runs after the first three migrations (profiles, posts, avatars bucket) and
-- before the pending ones, so it only uses columns those three create.
-- Fixed ids make the data easy to refer to in tests and docs.
--
-- Users (all with the password "password123"):
--   alice  00000000-0000-0000-0000-00000000a11c
--   bob    00000000-0000-0000-0000-000000000b0b
--   carol  00000000-0000-0000-0000-0000000ca201

insert into auth.users (
  id, instance_id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, is_super_admin, created_at, updated_at
)
values
  ('00000000-0000-0000-0000-00000000a11c', '00000000-0000-0000-0000-000000000000',
   'authenticated', 'authenticated', 'alice@example.com',
   extensions.crypt('password123', extensions.gen_salt('bf')), '2024-01-05 09:00:00+00',
   '{"provider": "email", "providers": ["email"]}', '{"full_name": "Alice Andersen"}',
   false, '2024-01-05 09:00:00+00', '2024-01-05 09:00:00+00'),
  ('00000000-0000-0000-0000-000000000b0b', '00000000-0000-0000-0000-000000000000',
   'authenticated', 'authenticated', 'bob@example.com',
   extensions.crypt('password123', extensions.gen_salt('bf')), '2024-01-06 10:30:00+00',
   '{"provider": "email", "providers": ["email"]}', '{"full_name": "Bob Brown"}',
   false, '2024-01-06 10:30:00+00', '2024-01-06 10:30:00+00'),
  ('00000000-0000-0000-0000-0000000ca201', '00000000-0000-0000-0000-000000000000',
   'authenticated', 'authenticated', 'carol@example.com',
   extensions.crypt('password123', extensions.gen_salt('bf')), '2024-01-07 14:15:00+00',
   '{"provider": "email", "providers": ["email"]}', '{"full_name": "Carol Chen"}',
   false, '2024-01-07 14:15:00+00', '2024-01-07 14:15:00+00');

insert into public.profiles (id, username, full_name, avatar_url, updated_at)
values
  ('00000000-0000-0000-0000-00000000a11c', 'alice', 'Alice Andersen',
   '00000000-0000-0000-0000-00000000a11c/avatar.png', '2024-01-05 09:05:00+00'),
  ('00000000-0000-0000-0000-000000000b0b', 'bob', 'Bob Brown', null, '2024-01-06 10:35:00+00'),
  ('00000000-0000-0000-0000-0000000ca201', 'carol', 'Carol Chen', null, '2024-01-07 14:20:00+00');

-- Four published posts and two drafts. ids come from the identity column.
insert into public.posts (author_id, title, body, published, created_at)
values
  ('00000000-0000-0000-0000-00000000a11c', 'Hello, world',
   'My first post on the demo app.', true, '2024-01-08 08:00:00+00'),
  ('00000000-0000-0000-0000-00000000a11c', 'Row Level Security in practice',
   'Policies decide which rows each role can see.', true, '2024-01-10 12:00:00+00'),
  ('00000000-0000-0000-0000-00000000a11c', 'Draft: migrating safely',
   'Notes for a future post about backups before migrations.', false, '2024-01-12 16:45:00+00'),
  ('00000000-0000-0000-0000-000000000b0b', 'Why I like Postgres',
   'Transactions, constraints and a great planner.', true, '2024-01-09 19:20:00+00'),
  ('00000000-0000-0000-0000-000000000b0b', 'Draft: storage buckets',
   null, false, '2024-01-11 07:30:00+00'),
  ('00000000-0000-0000-0000-0000000ca201', 'Notes from a weekend hackathon',
   'We built a realtime chat in two days.', true, '2024-01-13 21:10:00+00');

-- Alice's avatar in the public avatars bucket, in her own folder.
insert into storage.objects (bucket_id, name, owner, metadata, created_at, updated_at, last_accessed_at)
values
  ('avatars', '00000000-0000-0000-0000-00000000a11c/avatar.png',
   '00000000-0000-0000-0000-00000000a11c',
   '{"mimetype": "image/png", "size": 48213, "cacheControl": "max-age=3600"}',
   '2024-01-05 09:04:00+00', '2024-01-05 09:04:00+00', '2024-01-05 09:04:00+00');
