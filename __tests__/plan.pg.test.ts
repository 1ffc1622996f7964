import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { plan, planWithModels } from '../src/core/commands/plan.js';
import { connect, disconnect } from '../src/core/db/connect.js';
import { diffSchemas } from '../src/core/schema/diff.js';
import { introspect } from '../src/core/schema/introspect.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

let db: TestDatabase;
let project: TestProject | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

const BASE = {
  '1_base': `
create table public.notes (id bigint generated always as identity primary key, owner uuid not null, body text, created_at timestamptz default now());
alter table public.notes enable row level security;
create policy "owners read" on public.notes for select to authenticated using ((select auth.uid()) = owner);
insert into public.notes (owner, body) values ('00000000-0000-0000-0000-000000000001', 'keep me');`,
};

/** A project whose first migration is applied to production; `pending` files are added after. */
async function productionWith(pending: Record<string, string>): Promise<TestProject> {
  project = await createProject(migrations(BASE));
  await apply(project.config(db.url));
  for (const [name, sql] of Object.entries(pending))
    await project.write(`supabase/migrations/${name}.sql`, sql);
  return project;
}

function planConfig(p: TestProject, overrides = {}) {
  return p.config(db.url, { shadowUrl: inject('shadowUrl'), detectLocalSupabase: false, ...overrides });
}

describe('plan', () => {
  it('never lets pending SQL reach production: a DROP TABLE leaves the table and its rows', async () => {
    const p = await productionWith({ '2_drop': 'drop table public.notes;' });
    const before = await snapshot(db);
    const result = await plan(planConfig(p));
    expect(result.status).toBe('planned');
    expect(result.diff.changes).toEqual([
      expect.objectContaining({ kind: 'table', id: 'public.notes', action: 'removed' }),
    ]);
    expect(await snapshot(db)).toEqual(before);
    expect(await db.query('select body from public.notes')).toEqual([{ body: 'keep me' }]);
  });

  it('shows a Realtime Authorization policy on realtime.messages, and who it lets in', async () => {
    const p = await productionWith({
      '2_realtime': `create policy "anyone listens" on realtime.messages for select to anon using (true);`,
    });
    const result = await plan(planConfig(p));
    expect(result.diff.changes).toEqual([
      expect.objectContaining({
        kind: 'table',
        id: 'realtime.messages',
        action: 'changed',
        members: [expect.objectContaining({ kind: 'policy', name: 'anyone listens', action: 'added' })],
      }),
    ]);
    expect(result.access.map((a) => a.table)).toContain('realtime.messages');
  });

  it('reports a dropped column as a blocking data-loss hazard at its line, and accepts it with a reason', async () => {
    const p = await productionWith({
      '2_drop_body': '-- cleanup\n\nalter table public.notes drop column body;',
    });
    const result = await plan(planConfig(p));
    expect(result.hazards).toContainEqual(
      expect.objectContaining({
        code: 'drop-column',
        category: 'data-loss',
        severity: 'blocking',
        object: 'public.notes.body',
        location: expect.objectContaining({ path: 'supabase/migrations/2_drop_body.sql', line: 3 }),
      }),
    );
    expect(result.blocking).toBe(true);

    await p.write(
      'supabase/migrations/2_drop_body.sql',
      '-- supagate:allow data-loss: body moved to note_versions in 1_base\nalter table public.notes drop column body;',
    );
    const accepted = await plan(planConfig(p));
    const hazard = accepted.hazards.find((h) => h.code === 'drop-column');
    expect(hazard?.accepted).toEqual({
      reason: 'body moved to note_versions in 1_base',
      source: 'migration',
    });
    expect(accepted.blocking).toBe(false);
  });

  it('shows RLS access widening for anon and blocks it', async () => {
    const p = await productionWith({
      '2_public': `create policy "anyone reads" on public.notes for select to anon using (true);`,
    });
    const result = await plan(planConfig(p));
    const notes = result.access.find((t) => t.table === 'public.notes');
    const anonSelect = notes?.cells.find((c) => c.role === 'anon' && c.command === 'SELECT');
    expect(anonSelect).toMatchObject({ before: { kind: 'none' }, after: { kind: 'all' }, changed: true });
    expect(result.hazards).toContainEqual(
      expect.objectContaining({ code: 'access-widened', severity: 'blocking' }),
    );
    expect(result.blocking).toBe(true);
  });

  it('reports the security lints a PR introduces, not the ones production already had', async () => {
    await db.query('create table public.legacy (id int)'); // no RLS, no primary key: already there
    const p = await productionWith({ '2_open': 'create table public.open_table (id int primary key);' });
    const result = await plan(planConfig(p));
    const introduced = result.lints.introduced.map((l) => `${l.code} ${l.object}`);
    expect(introduced).toContain('rls_disabled_in_public public.open_table');
    expect(introduced.some((l) => l.includes('public.legacy'))).toBe(false);
    expect(result.lints.existingCount).toBeGreaterThan(0);
    expect(result.blocking).toBe(true);
  });

  it('reports a migration that fails on the shadow with file, line and statement, without crashing', async () => {
    const p = await productionWith({
      '2_typo': 'alter table public.notes\n  add column title text;\nselect * from public.missing_table;',
    });
    const before = await snapshot(db);
    const result = await plan(planConfig(p));
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({
      stage: 'migration',
      file: 'supabase/migrations/2_typo.sql',
      line: 3,
    });
    expect(result.failure?.migration?.sqlstate).toBe('42P01');
    expect(result.blocking).toBe(true);
    expect(await snapshot(db)).toEqual(before);
  });

  it('names the missing extension and the fix when the shadow server lacks it', async () => {
    const p = await productionWith({
      // postgis: neither in the embedded server's contrib nor among supagate's stand-ins.
      '2_postgis': 'create extension if not exists postgis with schema extensions;',
    });
    const result = await plan(planConfig(p));
    expect(result.status).toBe('failed');
    expect(result.failure?.hint).toContain('postgis');
    expect(result.failure?.hint).toContain('supabase/postgres');
    expect(result.failure?.kind).toBe('environment');
  });

  it('says a foreign data wrapper needs a Supabase-like shadow: an environment failure, not the migration’s', async () => {
    const p = await productionWith({
      '2_stripe': `create extension if not exists wrappers with schema extensions;
create foreign data wrapper stripe_wrapper handler extensions.stripe_fdw_handler validator extensions.stripe_fdw_validator;`,
    });
    const result = await plan(planConfig(p));
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({
      kind: 'environment',
      file: 'supabase/migrations/2_stripe.sql',
      line: 2,
    });
    expect(result.failure?.hint).toContain('supabase/postgres');
  });

  it('reports a migration that does not parse as a plan failure with file and line', async () => {
    const p = await productionWith({
      '2_bad': 'create table public.x (id int);\ncreate tabel public.y (id int);',
    });
    const result = await plan(planConfig(p));
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({ stage: 'files', file: 'supabase/migrations/2_bad.sql', line: 2 });
  });

  it('has a plan hash that changes with the migrations and with production, not otherwise', async () => {
    const p = await productionWith({ '2_col': 'alter table public.notes add column title text;' });
    const first = await plan(planConfig(p));
    const again = await plan(planConfig(p));
    expect(again.planHash).toBe(first.planHash);

    await p.write('supabase/migrations/2_col.sql', 'alter table public.notes add column title varchar(80);');
    const edited = await plan(planConfig(p));
    expect(edited.planHash).not.toBe(first.planHash);

    await p.write('supabase/migrations/2_col.sql', 'alter table public.notes add column title text;');
    await db.query('create index notes_owner_idx on public.notes (owner)');
    const drifted = await plan(planConfig(p));
    expect(drifted.planHash).not.toBe(first.planHash);
    expect(drifted.productionFingerprint).not.toBe(first.productionFingerprint);
  });

  it('says there is nothing to plan when production is up to date', async () => {
    const p = await productionWith({});
    const result = await plan(planConfig(p));
    expect(result.status).toBe('no-pending');
    expect(result.blocking).toBe(false);
  });

  it('plans on an embedded shadow when no shadow server is given', async () => {
    const p = await productionWith({ '2_col': 'alter table public.notes add column title text;' });
    // The tests' config names a shadow server by default: no shadow URL here.
    const result = await plan(p.config(db.url, { shadowUrl: undefined, detectLocalSupabase: false }));
    expect(result.shadow.source).toBe('embedded');
    expect(result.diff.changes).toEqual([
      expect.objectContaining({
        id: 'public.notes',
        members: [expect.objectContaining({ kind: 'column', name: 'title', action: 'added' })],
      }),
    ]);
  });
});

describe('convergence', () => {
  it('predicts exactly the schema that applying the migrations produces', async () => {
    const p = await productionWith({
      '2_broad': `
create type public.mood as enum ('happy', 'sad');
alter type public.mood add value 'meh' before 'sad';
create domain public.short_text as text check (length(value) < 100);
create sequence public.ticket_seq start 1000 increment 5;
create table public.tags (id serial primary key, name public.short_text not null unique, mood public.mood default 'happy');
alter table public.tags enable row level security;
alter table public.tags force row level security;
create policy "tags read" on public.tags for select to anon, authenticated using (true);
create policy "tags write" on public.tags as restrictive for insert to authenticated with check (length(name) > 1);
create table public.note_tags (note_id bigint references public.notes (id) on delete cascade, tag_id int, primary key (note_id, tag_id));
alter table public.note_tags add constraint note_tags_tag_fk foreign key (tag_id) references public.tags (id) not valid;
alter table public.note_tags enable row level security;
create index note_tags_tag_idx on public.note_tags (tag_id);
comment on table public.tags is 'Tags';
comment on column public.tags.name is 'The tag';
create view public.tag_names with (security_invoker = true) as select id, name from public.tags;
create materialized view public.tag_counts as select tag_id, count(*) from public.note_tags group by tag_id with no data;
create function public.tag_count(p_tag int) returns bigint language sql stable security definer set search_path = '' as $$ select count(*) from public.note_tags where tag_id = p_tag $$;
revoke execute on function public.tag_count(int) from public;
grant execute on function public.tag_count(int) to authenticated;
create function public.touch() returns trigger language plpgsql as $$ begin new.created_at := now(); return new; end $$;
create trigger notes_touch before update on public.notes for each row execute function public.touch();
alter table public.notes disable trigger notes_touch;
grant select (id, body) on public.notes to anon;
revoke all on public.tags from anon;
grant usage on schema public to anon;
alter default privileges in schema public grant select on tables to authenticated;
alter publication supabase_realtime add table public.notes;
-- supagate:allow rls_disabled_in_public: events are written and read by the service role only
create table public.events (id bigint, at date not null) partition by range (at);
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
insert into storage.buckets (id, name, public) values ('docs', 'docs', false);
create policy "docs owners" on storage.objects for select to authenticated using (bucket_id = 'docs' and owner = (select auth.uid()));
`,
    });
    const { result, after } = await planWithModels(planConfig(p));
    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('planned');
    expect(after).toBeDefined();
    expect(result.blockingReasons).toEqual([]);

    expect((await apply(p.config(db.url))).status).toBe('applied');
    const production = await connect(db.url, { readOnly: true });
    try {
      const actual = await introspect(production.client);
      const differences = diffSchemas(after as NonNullable<typeof after>, actual).changes;
      expect(differences).toEqual([]);
    } finally {
      await disconnect(production);
    }
  });
});
