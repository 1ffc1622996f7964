import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { plan } from '../src/core/commands/plan.js';
import { allowCommentsIn, classifyTypeChange, type HazardCode } from '../src/core/schema/hazards.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * Every hazard: a migration that triggers it and a close variant that must not. Production
 * (one database for the file) has `public.items` with 60 rows, analyzed, so that with
 * largeTableRows = 50 it counts as large.
 */
const PRODUCTION = `
create schema reports;
create table reports.daily (day date primary key, total int);
create table public.items (id bigint generated always as identity primary key, name text not null, qty integer, note varchar(50), owner uuid);
alter table public.items enable row level security;
create policy "owners" on public.items for select to authenticated using ((select auth.uid()) = owner);
create policy "owners write" on public.items for update to authenticated using ((select auth.uid()) = owner);
create table public.empty_things (id int primary key, label text);
alter table public.empty_things enable row level security;
create view public.things_view with (security_invoker = true) as select id, label from public.empty_things;
create function public.things_view_insert() returns trigger language plpgsql set search_path = '' as $$
begin insert into public.empty_things (id, label) values (new.id, new.label); return new; end $$;
create trigger things_view_insert instead of insert on public.things_view for each row execute function public.things_view_insert();
insert into public.items (name, qty, note) select 'item ' || g, g, 'n' from generate_series(1, 60) g;
analyze public.items;
`;

interface Case {
  code: HazardCode;
  triggers: string;
  safe: string;
}

const CASES: Case[] = [
  { code: 'drop-schema', triggers: 'drop schema reports cascade;', safe: 'create schema other;' },
  {
    code: 'drop-table',
    triggers: 'drop table public.items;',
    safe: 'alter table public.items rename to goods;',
  },
  {
    code: 'drop-column',
    triggers: 'alter table public.items drop column note;',
    safe: 'alter table public.items rename column note to remark;',
  },
  {
    code: 'rename-breaks-clients',
    triggers: 'alter table public.items rename column note to remark;',
    safe: 'alter table public.items add column remark text;',
  },
  { code: 'truncate', triggers: 'truncate public.items;', safe: 'delete from public.items where id = 1;' },
  {
    code: 'narrowing-type',
    triggers: 'alter table public.items alter column note type varchar(10);',
    safe: 'alter table public.items alter column note type varchar(100);',
  },
  {
    code: 'lossy-type-change',
    triggers: 'alter table public.items alter column name type bytea using name::bytea;',
    safe: 'alter table public.items alter column qty type bigint;',
  },
  {
    code: 'delete-without-where',
    triggers: 'delete from public.items;',
    safe: 'delete from public.items where qty > 100;',
  },
  {
    code: 'update-without-where',
    triggers: "update public.items set note = 'x';",
    safe: "update public.items set note = 'x' where id = 1;",
  },
  {
    code: 'table-rewrite',
    triggers: 'alter table public.items alter column qty type bigint;',
    safe: 'alter table public.items alter column note type text;',
  },
  {
    code: 'index-not-concurrent',
    triggers: 'create index items_name_idx on public.items (name);',
    safe: 'create index concurrently items_name_idx on public.items (name);',
  },
  {
    code: 'constraint-validation',
    triggers: 'alter table public.items add constraint qty_positive check (qty > 0);',
    safe: 'alter table public.items add constraint qty_positive check (qty > 0) not valid;',
  },
  {
    code: 'set-not-null',
    triggers: 'alter table public.items alter column qty set not null;',
    safe: 'alter table public.items alter column qty drop not null;',
  },
  {
    code: 'non-transactional',
    triggers: 'create index concurrently items_qty_idx on public.items (qty);',
    safe: 'create index items_owner_idx on public.empty_things (label);',
  },
  {
    code: 'rls-disabled',
    triggers: 'alter table public.items disable row level security;',
    safe: 'alter table public.items force row level security;',
  },
  {
    code: 'policy-dropped',
    triggers: 'drop policy "owners" on public.items;',
    safe: 'alter policy "owners" on public.items rename to "item owners";',
  },
  {
    code: 'access-widened',
    triggers: 'create policy "all read" on public.items for select to anon using (true);',
    safe: 'create policy "none read" on public.items for select to anon using (false);',
  },
  {
    code: 'grant-to-anon',
    triggers: 'grant select on public.empty_things to anon;',
    safe: 'grant select on public.empty_things to service_role;',
  },
  {
    code: 'security-definer-search-path',
    triggers: 'create function public.f() returns int language sql security definer as $$ select 1 $$;',
    safe: "create function public.f() returns int language sql security definer set search_path = '' as $$ select 1 $$;",
  },
  {
    code: 'unlogged-table',
    triggers: 'alter table public.empty_things set unlogged;',
    safe: 'alter table public.empty_things set (fillfactor = 90);',
  },
  {
    code: 'view-write-trigger-dropped',
    triggers: 'drop trigger things_view_insert on public.things_view;',
    safe: "alter view public.things_view alter column label set default 'x';",
  },
];

let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(migrations({ '1_production': PRODUCTION }));
  await apply(project.config(db.url));
});
afterAll(async () => {
  await project.cleanup();
  await db.drop();
});

async function hazardsOf(sql: string) {
  await project.write('supabase/migrations/2_pending.sql', sql);
  const result = await plan(
    project.config(db.url, {
      shadowUrl: inject('shadowUrl'),
      detectLocalSupabase: false,
      largeTableRows: '50',
    }),
  );
  expect(result.failure).toBeUndefined();
  return result.hazards;
}

describe('hazards', () => {
  for (const { code, triggers, safe } of CASES) {
    it(`${code}: reported for \`${triggers}\`, located at its statement`, async () => {
      const hazards = await hazardsOf(`-- pending\n${triggers}`);
      const hazard = hazards.find((h) => h.code === code);
      expect(hazard, JSON.stringify(hazards, null, 1)).toBeDefined();
      if (hazard?.location)
        expect(hazard.location).toMatchObject({ path: 'supabase/migrations/2_pending.sql', line: 2 });
    });
    it(`${code}: not reported for \`${safe}\``, async () => {
      const hazards = await hazardsOf(safe);
      expect(hazards.map((h) => h.code)).not.toContain(code);
    });
  }
});

describe('type changes', () => {
  it.each([
    ['integer', 'bigint', 'widening'],
    ['bigint', 'integer', 'narrowing'],
    ['character varying(50)', 'character varying(10)', 'narrowing'],
    ['character varying(50)', 'character varying(100)', 'binary-compatible'],
    ['character varying(50)', 'text', 'binary-compatible'],
    ['text', 'character varying(20)', 'narrowing'],
    ['numeric(10,2)', 'numeric(12,2)', 'binary-compatible'],
    ['numeric(10,2)', 'numeric(8,2)', 'narrowing'],
    ['numeric', 'numeric(8,2)', 'narrowing'],
    ['double precision', 'real', 'narrowing'],
    ['numeric', 'integer', 'narrowing'],
    ['text', 'jsonb', 'other'],
    ['integer', 'integer', 'same'],
  ])('%s → %s is %s', (from, to, expected) => {
    expect(classifyTypeChange(from, to)).toBe(expected);
  });
});

describe('acceptance comments', () => {
  it('reads `-- supagate:allow <code>: <reason>` lines', () => {
    expect(
      allowCommentsIn(
        '-- supagate:allow data-loss: archived in S3\nselect 1;\n  --  supagate:allow drop-table : old',
      ),
    ).toEqual([
      { code: 'data-loss', reason: 'archived in S3', line: 1 },
      { code: 'drop-table', reason: 'old', line: 3 },
    ]);
    expect(allowCommentsIn('-- supagate:allow data-loss\nselect 1;')).toEqual([]);
  });

  it('reads lint codes with underscores, and several codes in one comment', () => {
    expect(
      allowCommentsIn('select 1;\n-- supagate:allow rls_disabled_in_public, drop-column: a lookup table'),
    ).toEqual([
      { code: 'rls_disabled_in_public', reason: 'a lookup table', line: 2 },
      { code: 'drop-column', reason: 'a lookup table', line: 2 },
    ]);
  });
});
