import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { type PlanWithModels, planWithModels } from '../src/core/commands/plan.js';
import { fixesMarkdown, fixLines } from '../src/core/report/fixes.js';
import { diffSchemas } from '../src/core/schema/diff.js';
import type { Hazard } from '../src/core/schema/hazards.js';
import { appliedProduction, withPending } from './harness/applied-production.js';
import type { TestDatabase } from './harness/db.js';
import { createProject, migrations } from './harness/project.js';

/**
 * Renames in a Data API schema: the `rename-breaks-clients` hazard at the RENAME, and its safe
 * forms. A column: expand (applied, it plans without the hazard, and writes through either
 * name reach both) then contract (the two give the schema of the plain rename). A table: a
 * security_invoker view under the old name that authenticated users write through. No rewrite
 * where what uses the column by name would break.
 */
const ALICE = '00000000-0000-4000-8000-00000000a11c';
const BOB = '00000000-0000-4000-8000-000000000b0b';
const PRODUCTION = `
insert into auth.users (id, email) values ('${ALICE}', 'alice@example.com'), ('${BOB}', 'bob@example.com');
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text not null default 'anonymous',
  website text,
  slug text,
  owner_note text,
  bio text,
  bio_search text generated always as (lower(bio)) stored,
  age integer check (age > 0),
  updated_at timestamptz not null default now()
);
comment on column public.profiles.username is 'Shown beside posts';
create unique index profiles_slug_key on public.profiles (slug);
alter table public.profiles enable row level security;
create policy "profiles are readable" on public.profiles for select to authenticated using (true);
create policy "own profile insert" on public.profiles for insert to authenticated
  with check ((select auth.uid()) = id);
create policy "own profile update" on public.profiles for update to authenticated
  using ((select auth.uid()) = id) with check ((select auth.uid()) = id and owner_note is null);
revoke update on public.profiles from authenticated;
grant select, insert on public.profiles to authenticated;
grant update (username, website, slug, owner_note) on public.profiles to authenticated;
create view public.profile_sites with (security_invoker = true) as select id, website from public.profiles;
insert into public.profiles (id, username) values ('${ALICE}', 'alice');
`;

let db: TestDatabase;

beforeAll(async () => {
  db = await appliedProduction(PRODUCTION);
});
afterAll(async () => {
  await db.drop();
});

function planOf(files: Record<string, string>): Promise<PlanWithModels> {
  return withPending(PRODUCTION, files, (project) => planWithModels(project.config(db.url)));
}

function renameHazard(plan: PlanWithModels): Hazard | undefined {
  return plan.result.hazards.find((h) => h.code === 'rename-breaks-clients');
}

async function fixOf(statement: string): Promise<{ plan: PlanWithModels; fix: NonNullable<Hazard['fix']> }> {
  const plan = await planOf({ '2_rename': `${statement};\n` });
  const fix = renameHazard(plan)?.fix;
  if (!fix) throw new Error(`no fix: ${JSON.stringify(plan.result.hazards)}`);
  return { plan, fix };
}

/** As `userId` through the API role: `sql`'s rows. */
async function asUser<R extends pg.QueryResultRow>(url: string, userId: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    await client.query('set local role authenticated');
    await client.query("select set_config('request.jwt.claims', $1, true)", [
      JSON.stringify({ sub: userId, role: 'authenticated' }),
    ]);
    const { rows } = await client.query<R>(sql);
    await client.query('commit');
    return rows;
  } finally {
    await client.end();
  }
}

/** A fresh production with PRODUCTION and `files` applied by supagate. */
async function appliedWith(files: Record<string, string>): Promise<TestDatabase> {
  const production = await appliedProduction(PRODUCTION);
  const project = await createProject(migrations({ '1_production': PRODUCTION, ...files }));
  try {
    const result = await apply(project.config(production.url));
    expect(result.status, JSON.stringify(result)).toBe('applied');
  } finally {
    await project.cleanup();
  }
  return production;
}

describe('a column rename in an API schema', () => {
  it('is a warning at the RENAME statement, with an expand/contract rewrite', async () => {
    const plan = await planOf({
      '2_rename':
        '-- clients call it handle now\nalter table public.profiles rename column username to handle;\n',
    });
    const hazard = renameHazard(plan);
    expect(hazard).toMatchObject({
      severity: 'warning',
      category: 'client-compatibility',
      object: 'public.profiles.handle',
      location: { line: 2 },
    });
    expect(hazard?.location?.path).toMatch(/2_rename\.sql$/);
    expect(hazard?.message).toContain('public.profiles.username is renamed to handle');
    expect(plan.result.blocking).toBe(false);
    expect(hazard?.fix).toMatchObject({ placement: 'replace', ownFile: false });
    expect(hazard?.fix?.later?.sql).toContain('DROP COLUMN username');
    // The old column's own privileges go to the new one.
    expect(hazard?.fix?.sql).toContain('GRANT UPDATE (handle) ON TABLE public.profiles TO authenticated;');
    // Both steps are rendered: the PR comment and the text report.
    const markdown = fixesMarkdown([hazard as Hazard], (path, line) => `${path}:${line}`);
    expect(markdown).toContain(
      'Then, in a later migration, once every deployed client uses handle:\n```sql\nDROP TRIGGER',
    );
    expect(fixLines(hazard as Hazard)).toContain(
      '    then, in a later migration, once every deployed client uses handle:',
    );
  });

  /** A name a hostile pull request could pick: it ends the trigger's dollar quote and a comment line. */
  const HOSTILE = 'h$sync$; drop table public.profiles; --\n"x';
  for (const name of ['handle', HOSTILE]) {
    it(`expand plans without the hazard; expand then contract give the plain rename’s schema (${JSON.stringify(name)})`, async () => {
      const statement = `alter table public.profiles rename column username to "${name.replace(/"/g, '""')}"`;
      const { plan: original, fix } = await fixOf(statement);
      const expanded = await planOf({ '2_expand': `${fix.sql}\n` });
      expect(expanded.result.status, JSON.stringify(expanded.result.failure)).toBe('planned');
      expect(expanded.result.hazards).toEqual([]);
      expect(expanded.result.lints.introduced).toEqual([]);

      const contracted = await planOf({ '2_expand': `${fix.sql}\n`, '3_contract': `${fix.later?.sql}\n` });
      expect(contracted.result.status, JSON.stringify(contracted.result.failure)).toBe('planned');
      // The contract drops the old column on purpose and says so in an allow comment.
      expect(contracted.result.hazards.map((h) => [h.code, h.accepted?.source])).toEqual([
        ['drop-column', 'migration'],
      ]);
      expect(contracted.result.blocking).toBe(false);
      const difference = diffSchemas(original.after as never, contracted.after as never);
      expect(difference.changes).toEqual([]);
      // The diff matches columns by name; only their order differs (the new one comes last).
      const columns = (plan: PlanWithModels) =>
        plan.after?.tables['public.profiles']?.columns.map((c) => c.name) ?? [];
      expect(columns(contracted).at(-1)).toBe(name);
      expect(new Set(columns(contracted))).toEqual(new Set(columns(original)));
    });
  }

  it('during the expand phase, writes through either name reach both columns, under RLS', async () => {
    const { fix } = await fixOf('alter table public.profiles rename column username to handle');
    const production = await appliedWith({ '2_expand': `${fix.sql}\n` });
    try {
      const [back] = await production.query<{ username: string; handle: string }>(
        `select username, handle from public.profiles where id = '${ALICE}'`,
      );
      expect(back).toEqual({ username: 'alice', handle: 'alice' });

      // An old client inserts and updates with the old name…
      await asUser(
        production.url,
        BOB,
        `insert into public.profiles (id, username) values ('${BOB}', 'bob')`,
      );
      const both = `select username, handle from public.profiles where id = '${BOB}'`;
      expect(await production.query(both)).toEqual([{ username: 'bob', handle: 'bob' }]);
      await asUser(production.url, BOB, `update public.profiles set username = 'bobby' where id = '${BOB}'`);
      expect(await production.query(both)).toEqual([{ username: 'bobby', handle: 'bobby' }]);
      // …a new one with the new name.
      await asUser(
        production.url,
        ALICE,
        `update public.profiles set handle = 'alicia' where id = '${ALICE}'`,
      );
      expect(
        await asUser(
          production.url,
          ALICE,
          `select username, handle from public.profiles where id = '${ALICE}'`,
        ),
      ).toEqual([{ username: 'alicia', handle: 'alicia' }]);
      // RLS still applies: Bob cannot rename Alice through either name.
      await asUser(
        production.url,
        BOB,
        `update public.profiles set handle = 'mallory' where id = '${ALICE}'`,
      );
      expect(
        await production.query(`select username, handle from public.profiles where id = '${ALICE}'`),
      ).toEqual([{ username: 'alicia', handle: 'alicia' }]);
      // An insert that names only the new column: the old one (NOT NULL, with a default) follows it.
      await production.query(`delete from public.profiles where id = '${BOB}'`);
      await asUser(production.url, BOB, `insert into public.profiles (id, handle) values ('${BOB}', 'b')`);
      expect(await production.query(both)).toEqual([{ username: 'b', handle: 'b' }]);
    } finally {
      await production.drop();
    }
  });

  it('the contract, once the expand is in production, sets NOT NULL without a scan (the CHECK proves it)', async () => {
    const { fix } = await fixOf('alter table public.profiles rename column username to handle');
    const contract = fix.later?.sql as string;
    const production = await appliedWith({ '2_expand': `${fix.sql}\n` });
    try {
      await production.query('analyze public.profiles');
      const planContract = (sql: string) =>
        withPending(PRODUCTION, { '2_expand': `${fix.sql}\n`, '3_contract': `${sql}\n` }, (project) =>
          planWithModels(project.config(production.url, { largeTableRows: 1 })),
        );
      const planned = await planContract(contract);
      expect(planned.result.pending.map((m) => m.version)).toEqual(['3']);
      expect(planned.result.hazards.map((h) => h.code)).toEqual(['drop-column']);
      // Dropped before SET NOT NULL, the CHECK proves nothing: the scan is reported.
      const [drop, ...rest] = contract.split('\n').filter((l) => l.includes('DROP CONSTRAINT'));
      expect(rest).toEqual([]);
      const reordered = `${drop}\n${contract.replace(`${drop}\n`, '')}`;
      const scanned = await planContract(reordered);
      expect(scanned.result.hazards.map((h) => h.code)).toContain('set-not-null');
    } finally {
      await production.drop();
    }
  });

  it('offers no rewrite when an index, a policy or a view uses the column, and says why', async () => {
    const cases = [
      { column: 'slug', reason: 'index profiles_slug_key' },
      { column: 'owner_note', reason: 'policy "own profile update"' },
      { column: 'website', reason: 'view public.profile_sites' },
      { column: 'id', reason: 'index profiles_pkey' },
      { column: 'bio', reason: 'generated column bio_search is computed from it' },
      { column: 'age', reason: 'constraint profiles_age_check' },
      { column: 'bio_search', reason: 'the column is generated' },
    ];
    for (const { column, reason } of cases) {
      const plan = await planOf({
        '2_rename': `alter table public.profiles rename column ${column} to renamed_${column};\n`,
      });
      const hazard = renameHazard(plan);
      expect(hazard, column).toBeDefined();
      expect(hazard?.fix, column).toBeUndefined();
      expect(hazard?.message, column).toContain(`No expand/contract rewrite is offered: `);
      expect(hazard?.message, column).toContain(reason);
    }
  });

  it('is no hazard outside the API schemas', async () => {
    const sql = 'create schema private;\ncreate table private.notes (id bigint primary key, body text);\n';
    const plan = await withPending(
      `${PRODUCTION}${sql}`,
      { '2_rename': 'alter table private.notes rename column body to text_body;\n' },
      async (project) => {
        const production = await appliedProduction(`${PRODUCTION}${sql}`);
        try {
          return await planWithModels(project.config(production.url));
        } finally {
          await production.drop();
        }
      },
    );
    expect(plan.result.status).toBe('planned');
    expect(renameHazard(plan)).toBeUndefined();
  });
});

describe('a view rename in an API schema', () => {
  it('is a warning at the RENAME statement, without a rewrite', async () => {
    const plan = await planOf({
      '2_rename_view': '-- links, not sites\nalter view public.profile_sites rename to profile_links;\n',
    });
    expect(plan.result.status).toBe('planned');
    const hazard = renameHazard(plan);
    expect(hazard).toMatchObject({
      severity: 'warning',
      category: 'client-compatibility',
      object: 'public.profile_links',
      location: { path: 'supabase/migrations/2_rename_view.sql', line: 2 },
    });
    expect(hazard?.message).toContain('View public.profile_sites is renamed to public.profile_links');
    expect(hazard?.fix).toBeUndefined();
  });
});

describe('a table rename in an API schema', () => {
  it('is a warning with a compatibility view that authenticated users write through under RLS', async () => {
    const statement = 'alter table public.profiles rename to members';
    const { plan, fix } = await fixOf(statement);
    expect(renameHazard(plan)).toMatchObject({ object: 'public.members', location: { line: 1 } });
    expect(fix).toMatchObject({ placement: 'after', later: { sql: 'DROP VIEW public.profiles;' } });
    expect(fix.sql).toContain('WITH (security_invoker = true)');
    expect(fix.sql).toContain(
      'GRANT UPDATE (username, website, slug, owner_note) ON TABLE public.profiles TO authenticated;',
    );

    const withView = await planOf({ '2_rename': `${statement};\n${fix.sql}\n` });
    expect(withView.result.status, JSON.stringify(withView.result.failure)).toBe('planned');
    // The view is security_invoker: Supabase's security_definer_view lint does not fire.
    expect(withView.result.lints.introduced).toEqual([]);

    const production = await appliedWith({ '2_rename': `${statement};\n${fix.sql}\n` });
    try {
      await asUser(
        production.url,
        BOB,
        `insert into public.profiles (id, username) values ('${BOB}', 'bob')`,
      );
      expect(await production.query(`select username from public.members where id = '${BOB}'`)).toEqual([
        { username: 'bob' },
      ]);
      // RLS of the table applies through the view: Bob cannot change Alice's row.
      await asUser(production.url, BOB, `update public.profiles set username = 'x' where id = '${ALICE}'`);
      expect(await production.query(`select username from public.members where id = '${ALICE}'`)).toEqual([
        { username: 'alice' },
      ]);
    } finally {
      await production.drop();
    }
  });
});
