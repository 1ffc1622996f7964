alter table public.todos add column due_on date;
create index todos_due_on_idx on public.todos (due_on) where status = 'open';
