-- Storage bucket for profile pictures.
--
-- The bucket is public, so files can be fetched by URL without a token.
-- Listing and uploading still go through RLS on storage.objects.
-- Each user uploads into a folder named after their user id:
--   avatars/<user id>/avatar.png
--
-- supagate:allow access-widened: avatars are public pictures; anyone may read the avatars bucket

insert into storage.buckets (id, name, public)
values ('avatars', 'avatars', true);

create policy "Avatar images are publicly accessible"
  on storage.objects for select
  to anon, authenticated
  using (bucket_id = 'avatars');

create policy "Users can upload an avatar into their own folder"
  on storage.objects for insert
  to authenticated
  with check (
    bucket_id = 'avatars'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );
