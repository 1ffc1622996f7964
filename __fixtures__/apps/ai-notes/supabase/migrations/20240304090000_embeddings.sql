create extension if not exists vector with schema extensions;

create table public.note_embeddings (
  note_id uuid primary key references public.notes (id) on delete cascade,
  embedding vector(1536) not null
);
alter table public.note_embeddings enable row level security;

create index note_embeddings_hnsw on public.note_embeddings using hnsw (embedding vector_cosine_ops);

create function public.match_notes(query_embedding vector(1536), match_count int default 5)
returns table (note_id uuid, similarity float)
language sql stable as $$
  select e.note_id, 1 - (e.embedding <=> query_embedding) as similarity
  from public.note_embeddings e
  order by e.embedding <=> query_embedding
  limit least(match_count, 50);
$$;
