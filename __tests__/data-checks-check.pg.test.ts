import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PlanResult, plan } from '../src/core/commands/plan.js';
import type { ConfigInput } from '../src/core/config.js';
import { renderPlanMarkdown } from '../src/core/report/markdown.js';
import { renderPlan } from '../src/core/report/text.js';
import { appliedProduction, withPending } from './harness/applied-production.js';
import { blockingAt, checkOf, rowsOf } from './harness/data-checks.js';
import type { TestDatabase } from './harness/db.js';

/**
 * CHECK constraints counted on production (their expression rebuilt by supagate, never sent as
 * the pull request wrote it), and tables above the sampling threshold checked on a sample.
 * Production is a small shop on Supabase: profiles of auth.users, products, and an events
 * table of 20,000 rows for the sampling threshold (set to 1,000 by those tests).
 */
const PRODUCTION = `
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text,
  website text
);
create table public.products (
  id bigint generated always as identity primary key,
  name text not null,
  price numeric(10,2),
  stock integer
);
create table public.events (
  id bigint generated always as identity primary key,
  kind text not null,
  note text,
  amount integer not null,
  product_id bigint
);
create table public.audit_log (id bigint not null, at date not null, action text) partition by range (at);
create table public.audit_log_2025 partition of public.audit_log for values from ('2025-01-01') to ('2026-01-01');
create table public.audit_log_2026 partition of public.audit_log for values from ('2026-01-01') to ('2027-01-01');
create table public.members (id bigint primary key, email text not null, deleted_at timestamptz);
alter table public.members enable row level security;
insert into public.members values
  (1, 'Ada@Example.com', null), (2, 'ada@example.com', null),
  (3, 'bob@example.com', now()), (4, 'BOB@example.com', null), (5, 'carl@example.com', null);
create type public.order_status as enum ('open', 'paid', 'void');
create table public.orders (id bigint generated always as identity primary key, status public.order_status not null, refund_reason text);
alter table public.orders enable row level security;
insert into public.orders (status, refund_reason) values ('open', null), ('void', null), ('void', 'duplicate'), ('paid', null);
create function public.is_slug(value text) returns boolean language sql immutable as $$ select value ~ '^[a-z-]+$' $$;
alter table public.profiles enable row level security;
alter table public.products enable row level security;
alter table public.events enable row level security;
alter table public.audit_log enable row level security;
alter table public.audit_log_2025 enable row level security;
alter table public.audit_log_2026 enable row level security;
create policy "read own profile" on public.profiles for select to authenticated using ((select auth.uid()) = id);
create policy "anyone reads products" on public.products for select to anon, authenticated using (true);
insert into auth.users (id, email) select ('00000000-0000-0000-0000-00000000000' || g)::uuid, 'u' || g || '@example.com' from generate_series(1, 4) g;
insert into public.profiles (id, username, website) values
  ('00000000-0000-0000-0000-000000000001', 'ada', 'https://ada.example'),
  ('00000000-0000-0000-0000-000000000002', 'x', 'ftp://secret-host.example'),
  ('00000000-0000-0000-0000-000000000003', null, null),
  ('00000000-0000-0000-0000-000000000004', 'grace', 'https://grace.example');
insert into public.products (name, price, stock) values
  ('Tea', 4.50, 10), ('Refund voucher', -5.00, 1), ('Sample', 0.00, 0), ('Mug', 12.00, null), ('Secret-Prototype', -1.00, -3);
insert into public.events (kind, note, amount, product_id)
  select case when g % 2 = 0 then 'click' else 'view' end, case when g % 3 = 0 then null else 'n' end, g,
         case when g % 10 = 0 then 999 else 1 end
  from generate_series(1, 20000) g;
insert into public.audit_log values (1, '2025-03-01', 'login'), (2, '2025-04-01', ''), (3, '2026-02-01', 'logout'), (4, '2026-05-01', '');
alter table public.products add constraint products_stock_known check (stock is not null) not valid;
analyze;
`;

let db: TestDatabase;

beforeAll(async () => {
  db = await appliedProduction(PRODUCTION);
});
afterAll(async () => {
  await db.drop();
});

function planOf(files: Record<string, string>, overrides?: ConfigInput): Promise<PlanResult> {
  return withPending(PRODUCTION, files, (project) => plan(project.config(db.url, overrides)));
}

describe('CHECK constraints against production', () => {
  it('counts a CHECK that compares an enum column with a label, the cast written as production names the enum', async () => {
    const result = await planOf({
      '2_void_needs_reason':
        "alter table public.orders add constraint void_has_reason check (status <> 'void' or refund_reason is not null);\n",
    });
    const check = checkOf(result, 'public.orders.void_has_reason');
    expect(check).toMatchObject({ kind: 'check', outcome: 'violations', violations: 1 });
    expect(check.listQuery).toContain(`CAST('void' AS "public"."order_status")`);
    expect(await rowsOf(db.url, check.listQuery as string)).toHaveLength(1);
    expect(blockingAt(result)).toEqual(['supabase/migrations/2_void_needs_reason.sql:1']);
  });

  it('blocks a CHECK that rows violate, at its file and line, with the count and a rebuilt query', async () => {
    const result = await planOf({
      '2_positive_price':
        '-- no free or negative prices\n\nalter table public.products add constraint products_price_positive check (price > 0);\n',
    });
    const check = checkOf(result, 'public.products.products_price_positive');
    expect(check).toMatchObject({ kind: 'check', outcome: 'violations', violations: 3 });
    expect(blockingAt(result)).toEqual(['supabase/migrations/2_positive_price.sql:3']);
    expect(result.hazards.find((h) => h.code === 'data-check-failed')?.message).toBe(
      '3 rows violate it: CHECK products_price_positive on public.products fails in production',
    );
    expect(check.listQuery).toBe(
      'SELECT * FROM "public"."products" t WHERE (("price" OPERATOR(pg_catalog.>) CAST(0 AS pg_catalog.numeric))) IS FALSE LIMIT 100',
    );
    const listed = await rowsOf(db.url, check.listQuery ?? '');
    expect(listed.map((row) => row.name).sort()).toEqual(['Refund voucher', 'Sample', 'Secret-Prototype']);
  });

  it('passes a CHECK every row satisfies, NULLs included (a CHECK passes on NULL)', async () => {
    const result = await planOf({
      '2_checks': [
        'alter table public.products add constraint products_price_sane check (price < 1000 and price > -10);',
        "alter table public.profiles add constraint profiles_username_length check (char_length(username) between 1 and 20 and username !~ '\\s');",
      ].join('\n'),
    });
    expect(checkOf(result, 'public.products.products_price_sane')).toMatchObject({
      outcome: 'passed',
      violations: 0,
    });
    expect(checkOf(result, 'public.profiles.profiles_username_length')).toMatchObject({
      outcome: 'passed',
      violations: 0,
    });
    expect(blockingAt(result)).toEqual([]);
  });

  it('evaluates CASE, IN, BETWEEN and IS DISTINCT FROM as production would', async () => {
    const result = await planOf({
      '2_rules': [
        'alter table public.products add constraint products_refund_stock check (case when price < 0 then stock is null else true end);',
        "alter table public.products add constraint products_named check (name not in ('Tea', 'Mug') or stock between 5 and 20);",
        'alter table public.products add constraint products_stock_price check (stock is distinct from 0 or price is not distinct from 4.5);',
      ].join('\n'),
    });
    expect(checkOf(result, 'public.products.products_refund_stock')).toMatchObject({ violations: 2 });
    // Tea has 10 in stock; Mug has none known (NULL: the CHECK passes).
    expect(checkOf(result, 'public.products.products_named')).toMatchObject({ outcome: 'passed' });
    // Sample has none in stock at a price other than 4.50.
    expect(checkOf(result, 'public.products.products_stock_price')).toMatchObject({ violations: 1 });
  });

  it('counts a CHECK added NOT VALID where it is validated, and not before', async () => {
    const notValid =
      "alter table public.profiles add constraint profiles_website_https check (website like 'https://%') not valid;";
    const unvalidated = await planOf({ '2_https': notValid });
    expect(unvalidated.dataChecks?.some((c) => c.kind === 'check')).toBe(false);
    const validated = await planOf({
      '2_https': notValid,
      '3_validate': '\n\nalter table public.profiles validate constraint profiles_website_https;',
    });
    expect(checkOf(validated, 'public.profiles.profiles_website_https')).toMatchObject({
      outcome: 'violations',
      violations: 1,
    });
    expect(blockingAt(validated)).toEqual(['supabase/migrations/3_validate.sql:3']);
    const fromProduction = await planOf({
      '2_validate': 'alter table public.products validate constraint products_stock_known;',
    });
    expect(checkOf(fromProduction, 'public.products.products_stock_known')).toMatchObject({
      outcome: 'violations',
      violations: 1,
    });
  });

  it('sends string constants to production as they were written, backslashes and quotes included', async () => {
    const result = await planOf({
      '2_names': [
        String.raw`alter table public.products add constraint products_name_one_word check (name !~ '\s');`,
        String.raw`alter table public.products add constraint products_name_no_quote check (name <> 'Tea''s' and name not like '%\%');`,
      ].join('\n'),
    });
    const oneWord = checkOf(result, 'public.products.products_name_one_word');
    expect(oneWord).toMatchObject({ outcome: 'violations', violations: 1 });
    expect(oneWord.listQuery).toContain(String.raw`E'\\s'`);
    expect(checkOf(result, 'public.products.products_name_no_quote').outcome).toBe('passed');
  });

  it('counts under production names through a rename, and a new column by the value its rows get', async () => {
    const renamed = await planOf({
      '2_rename':
        'alter table public.products rename column stock to quantity;\nalter table public.products add check (quantity >= 0);',
    });
    const check = checkOf(renamed, 'public.products.products_quantity_check');
    expect(check).toMatchObject({ outcome: 'violations', violations: 1 });
    expect(check.listQuery).toContain('"stock" OPERATOR(pg_catalog.>=) 0');
    const badDefault = await planOf({
      '2_currency':
        "alter table public.products add column currency text not null default 'usd' check (currency in ('eur', 'gbp'));",
    });
    expect(checkOf(badDefault, 'public.products.products_currency_check')).toMatchObject({
      outcome: 'violations',
      violations: 5,
    });
    const goodDefault = await planOf({
      '2_currency':
        "alter table public.products add column currency text default 'eur' check (currency in ('eur', 'gbp'));\nalter table public.products add column rating int check (rating between 1 and 5);",
    });
    expect(checkOf(goodDefault, 'public.products.products_currency_check').outcome).toBe('passed');
    expect(checkOf(goodDefault, 'public.products.products_rating_check').outcome).toBe('passed');
    expect(blockingAt(goodDefault)).toEqual([]);
    const volatileDefault = await planOf({
      '2_added_at':
        "alter table public.products add column added_at timestamptz default now() check (added_at > '2020-01-01');",
    });
    expect(checkOf(volatileDefault, 'public.products.products_added_at_check')).toMatchObject({
      outcome: 'not-checked',
      reason:
        'the expression uses the new column added_at, whose value in existing rows supagate cannot tell, which supagate does not evaluate in production',
    });
  });

  it('reports an expression it will not rebuild as not checked, with the reason, and builds no query', async () => {
    const result = await planOf({
      '2_slug':
        'alter table public.profiles add constraint profiles_username_slug check (public.is_slug(username));',
      '3_sleep':
        'alter table public.products add constraint products_sleepy check (pg_sleep(30) is not null and set_config($$role$$, $$postgres$$, false) is not null);',
    });
    expect(checkOf(result, 'public.profiles.profiles_username_slug')).toMatchObject({
      outcome: 'not-checked',
      reason:
        'the expression uses the function public.is_slug, which supagate does not evaluate in production',
    });
    const sleepy = checkOf(result, 'public.products.products_sleepy');
    expect(sleepy).toMatchObject({
      outcome: 'not-checked',
      reason: 'the expression uses the function pg_sleep, which supagate does not evaluate in production',
    });
    expect(sleepy.listQuery).toBeUndefined();
    expect(blockingAt(result)).toEqual([]);
    expect(renderPlan(result)).toContain(
      'CHECK products_sleepy on public.products: not checked: the expression uses the function pg_sleep',
    );
  });

  it("counts a partitioned table's CHECK once, over its partitions' rows", async () => {
    const result = await planOf({
      '2_action': "alter table public.audit_log add constraint audit_log_action_set check (action <> '');",
    });
    expect(result.dataChecks?.filter((c) => c.kind === 'check')).toMatchObject([
      { object: 'public.audit_log.audit_log_action_set', outcome: 'violations', violations: 2 },
    ]);
    expect(blockingAt(result)).toEqual(['supabase/migrations/2_action.sql:1']);
  });

  it('says it cannot tell when an earlier UPDATE changes the columns it reads', async () => {
    const result = await planOf({
      '2_fix': 'update public.products set price = abs(price) where price < 0;',
      '3_positive': 'alter table public.products add constraint products_price_positive check (price > 0);',
    });
    const check = checkOf(result, 'public.products.products_price_positive');
    expect(check).toMatchObject({ outcome: 'undecidable', violations: 3 });
    expect(check.reason).toContain('supabase/migrations/2_fix.sql:1');
    expect(blockingAt(result)).toEqual([]);
  });

  it("says an expression fails on production's rows without quoting the value it fails on", async () => {
    const result = await planOf({
      '2_numeric_names':
        'alter table public.products add constraint products_name_numeric check (name::int > 0);',
    });
    const check = checkOf(result, 'public.products.products_name_numeric');
    expect(check).toMatchObject({
      outcome: 'not-checked',
      reason:
        "evaluating it on production's rows fails (SQLSTATE 22P02): a row holds a value it cannot take, so the statement would fail there too",
    });
    expect(`${JSON.stringify(result)}\n${renderPlanMarkdown(result)}`).not.toMatch(
      /Tea|Mug|Secret-Prototype/,
    );
  });

  it("puts no row's content in the result or the report", async () => {
    const result = await planOf({
      '2_checks': [
        'alter table public.products add constraint products_price_positive check (price > 0);',
        "alter table public.profiles add constraint profiles_website_https check (website like 'https://%');",
      ].join('\n'),
    });
    const shown = `${JSON.stringify(result)}\n${renderPlanMarkdown(result)}\n${renderPlan(result)}`;
    expect(shown).not.toMatch(/Secret-Prototype|secret-host|Refund voucher/);
    expect(renderPlanMarkdown(result)).toContain('3 rows violate it');
  });
});

describe('tables above the sampling threshold', () => {
  const sampled: ConfigInput = { dataCheckSampleAboveRows: '1000' };

  it('blocks on violations found in a sample, with an estimate and its percentage', async () => {
    const result = await planOf(
      { '2_note': 'alter table public.events alter column note set not null;' },
      sampled,
    );
    const check = checkOf(result, 'public.events.note');
    expect(check).toMatchObject({ outcome: 'violations', estimate: { method: 'sample', percent: 5 } });
    // A third of the rows have no note: the estimate is near 6,667, not the sample's own count.
    expect(check.violations).toBeGreaterThan(4_000);
    expect(check.violations).toBeLessThan(9_000);
    expect(blockingAt(result)).toEqual(['supabase/migrations/2_note.sql:1']);
    expect(renderPlanMarkdown(result)).toMatch(
      /about [\d,]+ rows have no value \(estimated from a 5% sample of the table\): it fails in production/,
    );
  });

  it('samples the rows of a foreign key and of a conversion too', async () => {
    const result = await planOf(
      {
        '2_fk':
          'alter table public.events add constraint events_product_id_fkey foreign key (product_id) references public.products (id);',
        '3_amount': 'alter table public.events alter column amount type smallint;',
      },
      sampled,
    );
    const fk = checkOf(result, 'public.events.events_product_id_fkey');
    expect(fk).toMatchObject({ outcome: 'violations', estimate: { method: 'sample', percent: 5 } });
    // One row in ten references no product: about 2,000.
    expect(fk.violations).toBeGreaterThan(1_000);
    expect(fk.violations).toBeLessThan(3_000);
    expect(checkOf(result, 'public.events.amount')).toMatchObject({ outcome: 'clean-sample', violations: 0 });
    expect(blockingAt(result)).toEqual(['supabase/migrations/2_fk.sql:1']);
  });

  it('warns, and does not pass, when the sample is clean', async () => {
    const result = await planOf(
      { '2_amount': 'alter table public.events add constraint events_amount_positive check (amount > 0);' },
      sampled,
    );
    const check = checkOf(result, 'public.events.events_amount_positive');
    expect(check).toMatchObject({ outcome: 'clean-sample', violations: 0, estimate: { percent: 5 } });
    expect(check.reason).toMatch(
      /^a 5% sample \([\d,]+ rows\) has no row in the way; the full count was skipped: the table has about 20,000 rows, above the 1,000 from which supagate samples$/,
    );
    expect(blockingAt(result)).toEqual([]);
    expect(renderPlan(result)).toContain(
      '⚠️ CHECK events_amount_positive on public.events: not proven: a 5% sample',
    );
    const full = await planOf({
      '2_amount': 'alter table public.events add constraint events_amount_positive check (amount > 0);',
    });
    expect(checkOf(full, 'public.events.events_amount_positive')).toMatchObject({ outcome: 'passed' });
    expect(checkOf(full, 'public.events.events_amount_positive').estimate).toBeUndefined();
  });

  it('counts a unique index in full, and asks only whether the table has a row for a new NOT NULL column', async () => {
    const result = await planOf(
      {
        '2_unique': 'create unique index events_kind_amount_key on public.events (kind, amount);',
        '3_source': 'alter table public.events add column source text not null;',
      },
      sampled,
    );
    const unique = checkOf(result, 'public.events.events_kind_amount_key');
    expect(unique).toMatchObject({ outcome: 'passed', violations: 0 });
    expect(unique.estimate).toBeUndefined();
    expect(checkOf(result, 'public.events.source')).toMatchObject({
      outcome: 'violations',
      violations: 20_000,
      estimate: { method: 'statistics' },
    });
    expect(blockingAt(result)).toEqual(['supabase/migrations/3_source.sql:1']);
  });
});

describe('unique indexes on expressions, and partial ones', () => {
  it('counts duplicates of an expression key, rebuilt from the index definition', async () => {
    const result = await planOf({
      '2_email_ci': 'create unique index members_email_ci on public.members (lower(email));\n',
    });
    const check = checkOf(result, 'public.members.members_email_ci');
    expect(check).toMatchObject({ kind: 'unique', outcome: 'violations', violations: 2, rows: 4 });
    expect(check.listQuery).toContain('pg_catalog.lower("email")');
    expect(blockingAt(result)).toEqual(['supabase/migrations/2_email_ci.sql:1']);
  });

  it('counts only the rows a partial index covers', async () => {
    const result = await planOf({
      '2_active_email':
        'create unique index members_active_email on public.members (lower(email)) where deleted_at is null;\n',
    });
    const check = checkOf(result, 'public.members.members_active_email');
    expect(check).toMatchObject({ outcome: 'violations', violations: 1, rows: 2 });
    expect(check.listQuery).toContain('("deleted_at" IS NULL)');
    const keyed = await planOf(
      {
        '2_active_email':
          'create unique index members_active_email on public.members (lower(email)) where deleted_at is null;\n',
      },
      { dataCheckKeyValues: 5 },
    );
    expect(checkOf(keyed, 'public.members.members_active_email').keys?.sort()).toEqual(['1', '2']);
    const clean = await planOf({
      '2_email_exact':
        'create unique index members_email_exact on public.members (email) where deleted_at is null;\n',
    });
    expect(checkOf(clean, 'public.members.members_email_exact').outcome).toBe('passed');
  });

  it('does not evaluate a key it cannot rebuild, and says why', async () => {
    const result = await planOf({
      '2_normalized': [
        'create function public.normalize_email(value text) returns text language sql immutable as $$ select lower(trim(value)) $$;',
        'create unique index members_normalized on public.members (public.normalize_email(email));',
        'create unique index members_email_c on public.members (email collate "C");',
      ].join('\n'),
    });
    expect(checkOf(result, 'public.members.members_normalized')).toMatchObject({ outcome: 'not-checked' });
    expect(checkOf(result, 'public.members.members_normalized').reason).toContain(
      'the function public.normalize_email',
    );
    expect(checkOf(result, 'public.members.members_normalized').listQuery).toBeUndefined();
    expect(checkOf(result, 'public.members.members_email_c').reason).toContain(
      'a collation or an operator class',
    );
  });
});
