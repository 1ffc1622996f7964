import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ColumnResolver,
  type RebuiltExpression,
  rebuildExpressionText,
} from '../src/core/datachecks/check-expression.js';
import { ensureParser } from '../src/core/migrations/parser.js';

/**
 * The CHECK expression rebuilder (promise 1): a pull request's CHECK is counted on production
 * only as SQL that supagate writes from the accepted nodes of its parse tree. Inputs are the
 * shapes `pg_get_constraintdef` prints, and hostile ones.
 */
beforeAll(async () => {
  await ensureParser();
});

/** Production's table has price, status, email, "Display Name"; `renamed_email` is email renamed. */
const production: ColumnResolver = (name) => {
  if (name === 'renamed_email') return { column: 'email' };
  if (['price', 'status', 'email', 'Display Name', 'tags', 'meta'].includes(name)) return { column: name };
  if (name === 'plan') return { value: "CAST('free' AS pg_catalog.text)" };
  return undefined;
};

function rebuilt(expression: string): string {
  const result = rebuildExpressionText(expression, production);
  if ('refused' in result) throw new Error(`refused: ${result.refused}`);
  return result.sql;
}

function refusal(expression: string): string {
  const result: RebuiltExpression = rebuildExpressionText(expression, production);
  if (!('refused' in result)) throw new Error(`accepted as ${result.sql}`);
  return result.refused;
}

describe('rebuilding a CHECK expression', () => {
  it('casts to an enum production has only through the resolver, as production names it', () => {
    const enums = (schema: string, name: string) =>
      schema === 'public' && name === 'mood' ? '"public"."mood"' : undefined;
    const accepted = rebuildExpressionText("(status <> 'sad'::public.mood)", production, enums);
    expect(accepted).toEqual({
      sql: `("status" OPERATOR(pg_catalog.<>) CAST('sad' AS "public"."mood"))`,
      columns: ['status'],
    });
    expect(
      rebuildExpressionText("(status = ANY (ARRAY['a'::public.mood]))", production, enums),
    ).not.toHaveProperty('refused');
    for (const [expression, what] of [
      ["(status <> 'x'::public.other)", 'a cast to public.other'],
      ['(status <> \'x\'::"public""; drop".mood)', 'a cast to public"; drop.mood'],
      ["(status <> 'x'::public.mood(3))", 'a cast to public.mood'],
    ] as const)
      expect(rebuildExpressionText(expression, production, enums)).toEqual({
        refused: `the expression uses ${what}, which supagate does not evaluate in production`,
      });
  });

  it('writes comparisons with pinned operators, casts to pg_catalog types and quoted columns', () => {
    expect(rebuilt('(price > (0)::numeric)')).toBe(
      '("price" OPERATOR(pg_catalog.>) CAST(0 AS pg_catalog.numeric))',
    );
    expect(rebuildExpressionText('(price > (0)::numeric)', production)).toMatchObject({ columns: ['price'] });
    expect(rebuilt('(char_length(renamed_email) <= 320)')).toBe(
      '(pg_catalog.char_length("email") OPERATOR(pg_catalog.<=) 320)',
    );
    expect(rebuilt('("Display Name" <> \'\'::text)')).toBe(
      `("Display Name" OPERATOR(pg_catalog.<>) CAST('' AS pg_catalog.text))`,
    );
  });

  it('rewrites IN, ANY, BETWEEN, DISTINCT and NULLIF so that every operator is pinned', () => {
    expect(rebuilt("(status = ANY (ARRAY['draft'::text, 'sent'::text]))")).toBe(
      `("status" OPERATOR(pg_catalog.=) ANY (ARRAY[CAST('draft' AS pg_catalog.text), CAST('sent' AS pg_catalog.text)]))`,
    );
    expect(rebuilt('price NOT IN (1, 2)')).toBe('("price" OPERATOR(pg_catalog.<>) ALL (ARRAY[1, 2]))');
    expect(rebuilt('price BETWEEN 1 AND 2.5')).toBe(
      '("price" OPERATOR(pg_catalog.>=) 1 AND "price" OPERATOR(pg_catalog.<=) 2.5)',
    );
    expect(rebuilt('price NOT BETWEEN -1 AND 2')).toBe(
      '("price" OPERATOR(pg_catalog.<) (-1) OR "price" OPERATOR(pg_catalog.>) 2)',
    );
    expect(rebuilt('status IS DISTINCT FROM email')).toBe(
      '(CASE WHEN "status" IS NULL THEN "email" IS NOT NULL WHEN "email" IS NULL THEN true ELSE NOT ("status" OPERATOR(pg_catalog.=) "email") END)',
    );
    expect(rebuilt("nullif(status, '')")).toBe(
      `(CASE WHEN "status" OPERATOR(pg_catalog.=) '' THEN NULL ELSE "status" END)`,
    );
  });

  it('accepts boolean logic, NULL and truth tests, COALESCE, LIKE and regular expressions', () => {
    expect(rebuilt("((email IS NULL) OR ((email)::text ~* '^[^@]+@[^@]+$'::text))")).toBe(
      `(("email" IS NULL) OR (CAST("email" AS pg_catalog.text) OPERATOR(pg_catalog.~*) CAST('^[^@]+@[^@]+$' AS pg_catalog.text)))`,
    );
    expect(rebuilt("NOT (status ~~ 'x%') AND (price > 0) IS NOT FALSE")).toBe(
      `((NOT ("status" OPERATOR(pg_catalog.~~) 'x%')) AND (("price" OPERATOR(pg_catalog.>) 0) IS NOT FALSE))`,
    );
    expect(rebuilt("coalesce(lower(btrim(status)), 'x') <> 'y' AND cardinality(tags) < 10")).toBe(
      `((COALESCE(pg_catalog.lower(pg_catalog.btrim("status")), 'x') OPERATOR(pg_catalog.<>) 'y') AND (pg_catalog.cardinality("tags") OPERATOR(pg_catalog.<) 10))`,
    );
    expect(rebuilt("status::character varying(20) IS NOT NULL AND '{}'::int[] IS NOT NULL")).toBe(
      `((CAST("status" AS pg_catalog.varchar(20)) IS NOT NULL) AND (CAST('{}' AS pg_catalog.int4[]) IS NOT NULL))`,
    );
    expect(rebuilt('-price < 0 AND true AND NULL IS NULL')).toBe(
      '(((OPERATOR(pg_catalog.-) "price") OPERATOR(pg_catalog.<) 0) AND true AND (NULL IS NULL))',
    );
  });

  it('accepts CASE, writing the simple form with a pinned =', () => {
    expect(rebuilt("CASE WHEN status = 'sale' THEN price > 0 ELSE true END")).toBe(
      `(CASE WHEN ("status" OPERATOR(pg_catalog.=) 'sale') THEN ("price" OPERATOR(pg_catalog.>) 0) ELSE true END)`,
    );
    expect(rebuilt("CASE status WHEN 'sale' THEN price > 0 END")).toBe(
      `(CASE WHEN "status" OPERATOR(pg_catalog.=) 'sale' THEN ("price" OPERATOR(pg_catalog.>) 0) END)`,
    );
    expect(refusal('CASE WHEN pg_sleep(1) IS NULL THEN true END')).toMatch(/function pg_sleep/);
  });

  it("puts a new column's value in every row in place of the column", () => {
    expect(rebuilt("plan = ANY (ARRAY['free', 'pro'])")).toBe(
      `(CAST('free' AS pg_catalog.text) OPERATOR(pg_catalog.=) ANY (ARRAY['free', 'pro']))`,
    );
  });

  it('quotes strings itself: quotes doubled, backslashes in an escape string', () => {
    expect(rebuilt("status <> 'it''s'")).toBe(`("status" OPERATOR(pg_catalog.<>) 'it''s')`);
    expect(rebuilt("status <> E'a\\\\'' OR true --'")).toBe(
      `("status" OPERATOR(pg_catalog.<>) E'a\\\\'' OR true --')`,
    );
    expect(rebuilt("status <> $$x'); select pg_sleep(10); --$$")).toBe(
      `("status" OPERATOR(pg_catalog.<>) 'x''); select pg_sleep(10); --')`,
    );
    expect(rebuilt('price > /* ; drop table x; */ 1 -- trailing\n')).toBe(
      '("price" OPERATOR(pg_catalog.>) 1)',
    );
  });

  it('quotes hostile column names as identifiers', () => {
    const hostile: ColumnResolver = (name) => ({ column: name });
    const result = rebuildExpressionText('"a""; drop table t; --" > 0', hostile);
    expect(result).toEqual({
      sql: '("a""; drop table t; --" OPERATOR(pg_catalog.>) 0)',
      columns: ['a"; drop table t; --'],
    });
  });

  it.each([
    ['pg_sleep(10) IS NULL', 'the function pg_sleep'],
    ["dblink('host=evil', 'select 1') IS NULL", 'the function dblink'],
    ["pg_read_file('/etc/passwd') <> ''", 'the function pg_read_file'],
    ["current_setting('request.jwt.claims') IS NULL", 'the function current_setting'],
    ["set_config('role', 'postgres', false) IS NULL", 'the function set_config'],
    ['pg_catalog.pg_sleep(1) IS NULL', 'the function pg_catalog.pg_sleep'],
    ['public.length(status) > 1', 'the function public.length'],
    ['price > (SELECT max(price) FROM public.orders)', 'a sub-select'],
    ['EXISTS (SELECT 1)', 'a sub-select'],
    ['price OPERATOR(public.===) 1', 'the operator public.==='],
    ['price @@ 1', 'the operator @@'],
    ["status::public.mood = 'x'", 'a cast to public.mood'],
    ['status::regclass IS NOT NULL', 'a cast to regclass'],
    ['ctid IS NOT NULL', 'the system column ctid'],
    ['missing > 0', "the column missing, which production's table does not have"],
    ['t.price > 0', 'a qualified or star column reference'],
    ['random() > 0.5', 'the function random'],
    ['count(*) > 0', 'the function count'],
    ['length(status) OVER () > 0', 'the function length as an aggregate, window or variadic call'],
    ['now() > created_at', 'the function now'],
    ['CURRENT_USER IS NOT NULL', 'a session value (CURRENT_USER, CURRENT_DATE…)'],
    ['generate_series(1, 10) > 0', 'the function generate_series'],
    ['price IN (price, 1)', 'a list of values that are not constants'],
    ['tags[1] IS NULL', 'a subscript or field selection'],
  ])('refuses %s', (expression, what) => {
    expect(refusal(expression)).toBe(
      `the expression uses ${what}, which supagate does not evaluate in production`,
    );
  });

  it('refuses text that is not exactly one expression', () => {
    expect(refusal('true; select pg_sleep(10)')).toBe('the text is not one expression');
    expect(refusal('true FROM pg_authid')).toBe('the text is not one expression');
    expect(refusal('true AS x')).toBe('the text is not one expression');
    expect(refusal('true UNION SELECT pg_sleep(1)')).toBe('the text is not one expression');
    expect(refusal('true) OR (pg_sleep(1) IS NULL')).toBe('the expression could not be parsed');
    expect(refusal('(((')).toBe('the expression could not be parsed');
  });

  it('refuses an expression nested deeper than it walks', () => {
    const deep = `${'NOT ('.repeat(100)}true${')'.repeat(100)}`;
    expect(refusal(deep)).toMatch(/nested more than 64 deep/);
  });
});
