import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import type { PlanResult } from '../src/core/commands/plan.js';
import { plan } from '../src/core/commands/plan.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { whereIs } from './harness/findings.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * Findings from a real plan: four pending migrations that touch the same objects, each hazard
 * and lint at the statement that causes it (exact file:line), and accepted by an allow comment
 * only in that file, or by supabase/supagate.yml. The rules themselves are tested on models
 * (hazards-locate.test.ts, lints-locate.test.ts); this checks them against what PostgreSQL and
 * the shadow really produce, in three plans.
 */
const PRODUCTION = `
create schema reports;
create table reports.daily (day date primary key, total int);
create table public.items (id bigint generated always as identity primary key, name text not null,
  qty integer, note varchar(50), owner uuid, code text, label text);
alter table public.items enable row level security;
create policy "owners" on public.items for select to authenticated using ((select auth.uid()) = owner);
create policy "owners write" on public.items for update to authenticated using ((select auth.uid()) = owner);
create table public.old_things (id int primary key);
alter table public.old_things enable row level security;
create table public.secrets (id int primary key, v text);
alter table public.secrets enable row level security;
create table public.empty_things (id int primary key);
alter table public.empty_things enable row level security;
create function public.f() returns int language sql set search_path = '' as $$ select 1 $$;
insert into public.items (name, qty, note, code, label) select 'item ' || g, g, 'n', 'c', 'l' from generate_series(1, 60) g;
insert into public.old_things select generate_series(1, 5);
analyze public.items;
analyze public.old_things;
`;

const FILES: Record<string, string> = {
  '2_first': [
    "alter table public.items alter column name set default 'x';",
    'alter table public.old_things add column note text;',
    'alter table public.secrets add column note text;',
    'alter table reports.daily add column extra int;',
    "create function public.g() returns int language sql set search_path = '' as $$ select public.f() $$;",
    'create table public.guestbook (id int primary key, body text);',
  ].join('\n'),
  '3_second': [
    '-- what this loses',
    'alter table public.items drop column note;',
    'alter table public.items alter column code type varchar(10);',
    'alter table public.items alter column label type bytea using label::bytea;',
    'alter table public.items alter column qty set not null;',
    'alter table public.items add constraint qty_positive check (qty > 0);',
    'drop table public.old_things;',
    'drop schema reports cascade;',
  ].join('\n'),
  '4_third': [
    'alter table public.secrets disable row level security;',
    'drop policy "owners write" on public.items;',
    'create policy "anon read" on public.items for select to anon using (true);',
    'grant select on public.empty_things to anon;',
    'create index items_name_idx on public.items (name);',
    'create or replace function public.f() returns int language sql security definer as $$ select 1 $$;',
    "update public.items set name = 'y';",
    'delete from public.items;',
    'truncate public.items;',
    'select pg_cancel_backend(0);',
    'alter table public.guestbook add column signed_at timestamptz;',
  ].join('\n'),
  '5_last': 'create index concurrently items_qty_idx on public.items (qty);',
};

/** Every blocking finding and every hazard, at the statement that causes it. */
const EXPECTED: Record<string, string> = {
  'drop-column public.items.note': '3_second.sql:2',
  'narrowing-type public.items.code': '3_second.sql:3',
  'table-rewrite public.items.code': '3_second.sql:3',
  'lossy-type-change public.items.label': '3_second.sql:4',
  'table-rewrite public.items.label': '3_second.sql:4',
  'set-not-null public.items.qty': '3_second.sql:5',
  'constraint-validation public.items.qty_positive': '3_second.sql:6',
  'drop-table public.old_things': '3_second.sql:7',
  'drop-schema reports': '3_second.sql:8',
  'drop-table reports.daily': '3_second.sql:8',
  'rls-disabled public.secrets': '4_third.sql:1',
  'access-widened public.secrets': '4_third.sql:1',
  'policy-dropped public.items.owners write': '4_third.sql:2',
  'access-widened public.items': '4_third.sql:3',
  'grant-to-anon ': '4_third.sql:4',
  'index-not-concurrent public.items': '4_third.sql:5',
  'security-definer-search-path public.f()': '4_third.sql:6',
  'update-without-where public.items': '4_third.sql:7',
  'delete-without-where public.items': '4_third.sql:8',
  'truncate public.items': '4_third.sql:9',
  'other-sessions ': '4_third.sql:10',
  'non-transactional ': '5_last.sql:1',
  'rls_disabled_in_public public.guestbook': '2_first.sql:6',
  'rls_disabled_in_public public.secrets': '4_third.sql:1',
};

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

async function planWith(files: Record<string, string>, supagateYml?: string): Promise<PlanResult> {
  for (const [name, sql] of Object.entries(files))
    await project.write(`supabase/migrations/${name}.sql`, sql);
  if (supagateYml === undefined) await project.remove('supabase/supagate.yml');
  else await project.write('supabase/supagate.yml', supagateYml);
  const result = await plan(
    project.config(db.url, {
      shadowUrl: inject('shadowUrl'),
      detectLocalSupabase: false,
      largeTableRows: '50',
    }),
  );
  expect(result.failure).toBeUndefined();
  return result;
}

type Found = { code: string; object?: string; location?: { path: string; line: number }; accepted?: unknown };

/** The hazards, and the lints that block (ERROR level), keyed `code object`. */
function findings(result: PlanResult): Map<string, Found> {
  const all: Found[] = [...result.hazards, ...result.lints.introduced.filter((l) => l.level === 'ERROR')];
  return new Map(all.map((f) => [`${f.code} ${f.object ?? ''}`, f]));
}

function where(found: Found): string {
  return whereIs(found).replace('supabase/migrations/', '');
}

/** `-- supagate:allow` lines for the codes EXPECTED puts in `file`, or (wrong) in another file. */
function allowComments(wrong: boolean): Record<string, string> {
  const files = Object.keys(FILES);
  const located = new Map<string, Set<string>>();
  for (const [key, at] of Object.entries(EXPECTED)) {
    const code = key.split(' ')[0] as string;
    const file = at.split('.sql')[0] as string;
    located.set(code, (located.get(code) ?? new Set()).add(file));
  }
  const comments: Record<string, string> = Object.fromEntries(files.map((f) => [f, FILES[f] as string]));
  for (const [code, inFiles] of located) {
    const targets = wrong ? [files.find((f) => !inFiles.has(f)) as string] : [...inFiles];
    for (const file of targets) comments[file] += `\n-- supagate:allow ${code}: reviewed`;
  }
  return comments;
}

describe('findings of a real plan, across four migrations', () => {
  it('puts each hazard and blocking lint at the statement that causes it', async () => {
    const result = await planWith(FILES);
    const actual = Object.fromEntries([...findings(result)].map(([key, found]) => [key, where(found)]));
    expect(actual).toEqual(EXPECTED);
    expect(result.blocking).toBe(true);
    expect(result.blockingReasons).toContainEqual(
      expect.stringContaining(
        'drop-column at supabase/migrations/3_second.sql:2: Column public.items.note is dropped with its data',
      ),
    );
    expect(JSON.stringify(result)).not.toContain('"tree"');
  });

  it('accepts nothing by allow comments in the wrong files', async () => {
    const result = await planWith(allowComments(true));
    for (const [key, found] of findings(result)) expect(found.accepted, key).toBeUndefined();
    expect(result.blocking).toBe(true);
  });

  it('accepts every finding by an allow comment in its own file, and then does not block', async () => {
    const result = await planWith(allowComments(false));
    for (const [key, found] of findings(result))
      expect(found.accepted, key).toEqual({ reason: 'reviewed', source: 'migration' });
    expect(result.blockingReasons).toEqual([]);
    expect(result.blocking).toBe(false);
  });
});

describe('a lint accepted in supabase/supagate.yml', () => {
  const GUESTBOOK = {
    '2_first': 'create table public.guestbook (id int primary key, body text);',
    '3_second': 'alter table public.guestbook add column signed_at timestamptz;',
  };

  afterAll(async () => {
    for (const name of Object.keys(GUESTBOOK)) await project.remove(`supabase/migrations/${name}.sql`);
  });

  it('blocks until accepted, then does not block', async () => {
    for (const name of Object.keys(FILES)) await project.remove(`supabase/migrations/${name}.sql`);
    const blocked = await planWith(GUESTBOOK);
    expect(blocked.blockingReasons).toEqual([
      expect.stringMatching(
        /^rls_disabled_in_public at supabase\/migrations\/2_first\.sql:1: .* add `-- supagate:allow rls_disabled_in_public: <why>` to supabase\/migrations\/2_first\.sql/,
      ),
    ]);
    const accepted = await planWith(
      GUESTBOOK,
      'acceptedHazards:\n  - code: rls_disabled_in_public\n    object: public.guestbook\n    reason: a public guest book\n',
    );
    const lint = accepted.lints.introduced.find((l) => l.code === 'rls_disabled_in_public');
    expect(lint?.accepted).toEqual({ reason: 'a public guest book', source: 'config' });
    expect(accepted.blocking).toBe(false);
  });

  it('does not block a table that verify.allowNoRls lets go without RLS', async () => {
    const result = await planWith(GUESTBOOK, 'verify:\n  allowNoRls: [guestbook]\n');
    const lint = result.lints.introduced.find((l) => l.code === 'rls_disabled_in_public');
    expect(lint?.accepted).toEqual({
      reason: 'verify.allowNoRls in supabase/supagate.yml',
      source: 'config',
    });
    expect(result.blocking).toBe(false);
  });

  it('blocks the plan when an allow comment names no finding', async () => {
    const result = await planWith({
      ...GUESTBOOK,
      '2_first': `${GUESTBOOK['2_first']}\n-- supagate:allow rls_disabled_in_publik: typo`,
    });
    expect(result.blockingReasons).toContainEqual(
      expect.stringContaining(
        'supabase/migrations/2_first.sql:2: `-- supagate:allow rls_disabled_in_publik` names no hazard or lint code or category (did you mean rls_disabled_in_public',
      ),
    );
  });
});
