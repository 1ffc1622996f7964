import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PlanResult, plan } from '../src/core/commands/plan.js';
import { renderPlanMarkdown } from '../src/core/report/markdown.js';
import { appliedProduction, withPending } from './harness/applied-production.js';
import { blockingAt, checkOf, rowsOf } from './harness/data-checks.js';
import type { TestDatabase } from './harness/db.js';

/**
 * Data checks: a production whose rows would make a pending statement fail blocks the plan at
 * that statement, with the count; a clean one passes; an earlier back-fill is taken into
 * account, other earlier writes make the count undecidable; and no row's content reaches the
 * report. Production (one database for the file) is a small Supabase app with users, teams,
 * profiles and invoices.
 */
const PRODUCTION = `
create table public.teams (id bigint generated always as identity primary key, slug text not null);
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text,
  email text,
  team_id bigint
);
create type public.invoice_status as enum ('draft', 'sent', 'void');
create table public.invoices (
  id bigint generated always as identity primary key, team_id bigint, number text, quantity bigint, amount numeric(12,2),
  status public.invoice_status
);
alter table public.profiles enable row level security;
alter table public.teams enable row level security;
alter table public.invoices enable row level security;
create policy "own profile" on public.profiles for select to authenticated using ((select auth.uid()) = id);
insert into public.teams (slug) values ('acme'), ('globex'), ('globex'), ('initech');
insert into auth.users (id, email) select ('00000000-0000-0000-0000-00000000000' || g)::uuid, 'u' || g || '@example.com' from generate_series(1, 5) g;
insert into public.profiles (id, username, email, team_id)
  select ('00000000-0000-0000-0000-00000000000' || g)::uuid, 'user' || g,
         case when g <= 2 then null else 'secret-contact-' || g || '@example.com' end, g
  from generate_series(1, 5) g;
insert into public.invoices (team_id, number, quantity, amount, status) values
  (1, 'INV-1', 1, 1.00, 'draft'), (2, 'INV-2', 2, 2.50, 'sent'), (40, 'INV-3', 3000000000, 123456.78, 'void'),
  (41, 'INV-4', 4, 9.99, 'draft'), (null, 'INV-5', null, null, null);
analyze;
`;

let db: TestDatabase;

beforeAll(async () => {
  db = await appliedProduction(PRODUCTION);
});
afterAll(async () => {
  await db.drop();
});

function planOf(files: Record<string, string>): Promise<PlanResult> {
  return withPending(PRODUCTION, files, (project) => plan(project.config(db.url)));
}

describe('data checks against production', () => {
  it('blocks SET NOT NULL over NULLs at its file and line, with the count and a query that lists them', async () => {
    const result = await planOf({
      '2_require_email':
        '-- every profile needs an email\n\nalter table public.profiles alter column email set not null;\n',
    });
    const check = checkOf(result, 'public.profiles.email');
    expect(check).toMatchObject({ kind: 'not-null', outcome: 'violations', violations: 2 });
    expect(result.blocking).toBe(true);
    expect(blockingAt(result)).toEqual(['supabase/migrations/2_require_email.sql:3']);
    expect(result.hazards.find((h) => h.code === 'data-check-failed')?.message).toMatch(
      /^2 rows have no value/,
    );
    const listed = await rowsOf(db.url, check.listQuery ?? '');
    expect(listed.map((row) => row.username).sort()).toEqual(['user1', 'user2']);
  });

  it('passes a SET NOT NULL that every row satisfies', async () => {
    const result = await planOf({
      '2_require_username': 'alter table public.profiles alter column username set not null;',
    });
    expect(checkOf(result, 'public.profiles.username')).toMatchObject({ outcome: 'passed', violations: 0 });
    expect(blockingAt(result)).toEqual([]);
  });

  it('takes an earlier back-fill into account', async () => {
    const result = await planOf({
      '2_backfill': "update public.profiles set email = 'unknown@example.com' where email is null;",
      '3_require_email': 'alter table public.profiles alter column email set not null;',
    });
    const check = checkOf(result, 'public.profiles.email');
    expect(check.outcome).toBe('back-filled');
    expect(check.reason).toContain('supabase/migrations/2_backfill.sql:1');
    expect(blockingAt(result)).toEqual([]);
  });

  it('says it cannot tell when an earlier statement changes the rows otherwise', async () => {
    const result = await planOf({
      '2_cleanup': 'delete from public.profiles where email is null and username like $$user%$$;',
      '3_require_email': 'alter table public.profiles alter column email set not null;',
    });
    const check = checkOf(result, 'public.profiles.email');
    expect(check).toMatchObject({ outcome: 'undecidable', violations: 2 });
    expect(check.reason).toContain('supabase/migrations/2_cleanup.sql:1');
    expect(blockingAt(result)).toEqual([]);
  });

  it('counts through an earlier UPDATE of other columns, which cannot change the NULLs', async () => {
    const result = await planOf({
      '2_lower': 'update public.profiles set username = lower(username);',
      '3_require_email': 'alter table public.profiles alter column email set not null;',
    });
    expect(checkOf(result, 'public.profiles.email')).toMatchObject({ outcome: 'violations', violations: 2 });
    expect(blockingAt(result)).toEqual(['supabase/migrations/3_require_email.sql:1']);
  });

  it("says it cannot tell when the referenced table's rows change first", async () => {
    const result = await planOf({
      '2_cleanup': "delete from public.teams where slug = 'initech';",
      '3_fk':
        'alter table public.invoices add constraint invoices_team_id_fkey foreign key (team_id) references public.teams (id);',
    });
    expect(checkOf(result, 'public.invoices.invoices_team_id_fkey')).toMatchObject({
      outcome: 'undecidable',
      violations: 2,
    });
    expect(blockingAt(result)).toEqual([]);
  });

  it('follows a rename back to the column production has', async () => {
    const result = await planOf({
      '2_rename':
        'alter table public.profiles rename column email to contact_email;\nalter table public.profiles alter column contact_email set not null;',
    });
    expect(checkOf(result, 'public.profiles.contact_email')).toMatchObject({
      outcome: 'violations',
      violations: 2,
    });
    expect(blockingAt(result)).toEqual(['supabase/migrations/2_rename.sql:2']);
  });

  it("counts under production's names only, whatever a hostile pull request names the column", async () => {
    const hostile = 'e"; drop table public.teams; --';
    const result = await planOf({
      '2_rename': `alter table public.profiles rename column email to "${hostile.replace(/"/g, '""')}";\nalter table public.profiles alter column "${hostile.replace(/"/g, '""')}" set not null;`,
    });
    const check = checkOf(result, `public.profiles.${hostile}`);
    expect(check).toMatchObject({ outcome: 'violations', violations: 2 });
    expect(check.listQuery).toContain('t."email" IS NULL');
    expect(check.listQuery).not.toContain('drop table');
    const [teams] = await rowsOf(db.url, 'select count(*)::int as n from public.teams');
    expect(teams?.n).toBe(4);
  });

  it('blocks a unique index over duplicates and passes one over distinct values', async () => {
    const duplicated = await planOf({
      '2_unique_slug': 'create unique index teams_slug_key on public.teams (slug);',
    });
    expect(checkOf(duplicated, 'public.teams.teams_slug_key')).toMatchObject({
      kind: 'unique',
      outcome: 'violations',
      violations: 1,
      rows: 2,
    });
    expect(blockingAt(duplicated)).toEqual(['supabase/migrations/2_unique_slug.sql:1']);
    const distinct = await planOf({
      '2_unique_number': 'alter table public.invoices add constraint invoices_number_key unique (number);',
    });
    expect(checkOf(distinct, 'public.invoices.invoices_number_key').outcome).toBe('passed');
    expect(blockingAt(distinct)).toEqual([]);
  });

  it('blocks a foreign key over orphans, where it is validated', async () => {
    const result = await planOf({
      '2_fk':
        'alter table public.invoices add constraint invoices_team_id_fkey foreign key (team_id) references public.teams (id) not valid;',
      '3_validate': '\nalter table public.invoices validate constraint invoices_team_id_fkey;',
    });
    expect(checkOf(result, 'public.invoices.invoices_team_id_fkey')).toMatchObject({
      kind: 'foreign-key',
      outcome: 'violations',
      violations: 2,
    });
    expect(blockingAt(result)).toEqual(['supabase/migrations/3_validate.sql:2']);
  });

  it('blocks a NOT NULL column added without a default to a table that has rows', async () => {
    const result = await planOf({ '2_plan': 'alter table public.teams add column plan text not null;' });
    expect(checkOf(result, 'public.teams.plan')).toMatchObject({
      kind: 'new-column-not-null',
      outcome: 'violations',
      violations: 4,
    });
    const withDefault = await planOf({
      '2_plan': "alter table public.teams add column plan text not null default 'free';",
    });
    expect(withDefault.dataChecks?.filter((c) => c.object === 'public.teams.plan')).toEqual([]);
    const defaultDropped = await planOf({
      '2_plan':
        "alter table public.teams add column plan text not null default 'free';\nalter table public.teams alter column plan drop default;",
    });
    expect(defaultDropped.dataChecks?.filter((c) => c.object === 'public.teams.plan')).toEqual([]);
    const nullDefault = await planOf({
      '2_plan': 'alter table public.teams add column plan text not null default null;',
    });
    expect(checkOf(nullDefault, 'public.teams.plan')).toMatchObject({ outcome: 'violations', violations: 4 });
  });

  it('blocks a type conversion that values do not fit, and leaves one with a USING expression alone', async () => {
    const result = await planOf({
      '2_narrow': [
        'alter table public.invoices alter column quantity type integer;',
        'alter table public.invoices alter column amount type numeric(5,2);',
        'alter table public.invoices alter column number type varchar(4);',
      ].join('\n'),
    });
    expect(checkOf(result, 'public.invoices.quantity')).toMatchObject({ kind: 'conversion', violations: 1 });
    expect(checkOf(result, 'public.invoices.amount')).toMatchObject({ outcome: 'violations', violations: 1 });
    expect(checkOf(result, 'public.invoices.number')).toMatchObject({ outcome: 'violations', violations: 5 });
    expect(blockingAt(result).sort()).toEqual([
      'supabase/migrations/2_narrow.sql:1',
      'supabase/migrations/2_narrow.sql:2',
      'supabase/migrations/2_narrow.sql:3',
    ]);
    const fits = await planOf({
      '2_widen':
        'alter table public.invoices alter column amount type numeric(9,2);\nalter table public.invoices alter column number type varchar(4) using left(number, 4);',
    });
    expect(checkOf(fits, 'public.invoices.amount').outcome).toBe('passed');
    expect(fits.dataChecks?.some((c) => c.object === 'public.invoices.number')).toBe(false);
  });

  it('blocks an enum recreated without a label that rows still hold, under its name or another', async () => {
    const recreated = await planOf({
      '2_status': [
        'alter type public.invoice_status rename to invoice_status_old;',
        "create type public.invoice_status as enum ('draft', 'sent', 'paid');",
        'alter table public.invoices alter column status type public.invoice_status using status::text::public.invoice_status;',
        'drop type public.invoice_status_old;',
      ].join('\n'),
    });
    expect(checkOf(recreated, 'public.invoices.status')).toMatchObject({
      outcome: 'violations',
      violations: 1,
    });
    expect(blockingAt(recreated)).toEqual(['supabase/migrations/2_status.sql:3']);
    const renamed = await planOf({
      '2_status': [
        "create type public.invoice_state as enum ('draft', 'sent', 'paid');",
        'alter table public.invoices alter column status type public.invoice_state using status::text::public.invoice_state;',
      ].join('\n'),
    });
    expect(checkOf(renamed, 'public.invoices.status')).toMatchObject({
      outcome: 'violations',
      violations: 1,
    });
    const kept = await planOf({ '2_status': "alter type public.invoice_status add value 'paid';" });
    expect(kept.dataChecks?.some((c) => c.object === 'public.invoices.status')).toBe(false);
  });

  it('accepts a failing check by an allow comment, like any hazard', async () => {
    const result = await planOf({
      '2_require_email':
        '-- supagate:allow data-check-failed: the two rows are fixed by hand before merging\nalter table public.profiles alter column email set not null;',
    });
    expect(result.hazards.find((h) => h.code === 'data-check-failed')?.accepted?.source).toBe('migration');
    expect(result.blocking).toBe(false);
  });

  it("puts no row's content in the result or the report", async () => {
    const result = await planOf({
      '2_require_email': 'alter table public.profiles alter column email set not null;',
      '3_unique_slug': 'create unique index teams_slug_key on public.teams (slug);',
    });
    const shown = `${JSON.stringify(result)}\n${renderPlanMarkdown(result)}`;
    expect(shown).not.toMatch(/secret-contact|globex|INV-3/);
    expect(renderPlanMarkdown(result)).toContain('2 rows have no value');
    expect(result.dataChecks?.some((check) => check.keys !== undefined)).toBe(false);
  });

  it('shows the primary keys of a few rows in the way when configured, and nothing else of them', async () => {
    const result = await withPending(
      PRODUCTION,
      {
        '2_require_email': 'alter table public.profiles alter column email set not null;',
        '3_unique_slug': 'create unique index teams_slug_key on public.teams (slug);',
      },
      (project) => plan(project.config(db.url, { dataCheckKeyValues: 1 })),
    );
    expect(checkOf(result, 'public.profiles.email')).toMatchObject({
      violations: 2,
      keys: [expect.stringMatching(/^00000000-0000-0000-0000-00000000000[12]$/)],
      keyColumns: ['id'],
    });
    const slug = await withPending(
      PRODUCTION,
      { '3_unique_slug': 'create unique index teams_slug_key on public.teams (slug);' },
      (project) => plan(project.config(db.url, { dataCheckKeyValues: 5 })),
    );
    expect(checkOf(slug, 'public.teams.teams_slug_key').keys?.sort()).toEqual(['2', '3']);
    const markdown = renderPlanMarkdown(slug);
    expect(markdown).toMatch(/1 value appears more than once \(2 rows\), among them id = [23], [23]/);
    expect(`${JSON.stringify(result)}\n${renderPlanMarkdown(result)}${markdown}`).not.toMatch(
      /secret-contact|globex|INV-3/,
    );
  });

  it('checks nothing when data checks are off', async () => {
    const result = await withPending(
      PRODUCTION,
      { '2_require_email': 'alter table public.profiles alter column email set not null;' },
      (project) => plan(project.config(db.url, { dataChecks: 'off' })),
    );
    expect(result.dataChecks).toEqual([]);
    expect(blockingAt(result)).toEqual([]);
  });
});
