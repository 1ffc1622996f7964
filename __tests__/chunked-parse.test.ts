import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModule, parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../bench/schema-generator.js';
import {
  cutPoints,
  parseInPieces,
  parseStatements,
  type RawStmt,
} from '../src/core/migrations/chunked-parse.js';

const FIXTURES = join(import.meta.dirname, '../__fixtures__');

beforeAll(async () => {
  await loadModule();
});

/** What a whole parse gives; node `location`s are relative to the text parsed, so left out. */
function comparable(statements: RawStmt[]): unknown {
  return JSON.parse(JSON.stringify(statements, (key, value) => (key === 'location' ? undefined : value)));
}

function wholeParse(sql: string): RawStmt[] {
  return (parseSync(sql) as { stmts?: RawStmt[] }).stmts ?? [];
}

async function errorOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the parse to fail');
}

describe('parsing a large file in pieces gives the whole parse', () => {
  it('on the fixtures’ migrations, cut after nearly every statement', async () => {
    const files = [
      'apps/todo-dump/supabase/migrations/20231015120000_remote_schema.sql',
      'apps/ai-notes/supabase/migrations/20240301090000_init.sql',
      'apps/ai-notes/supabase/migrations/20240302090000_realtime.sql',
      'apps/ai-notes/supabase/migrations/20240305090000_webhooks.sql',
      'supabase-bootstrap.sql',
    ];
    for (const file of files) {
      const sql = await readFile(join(FIXTURES, file), 'utf8');
      expect(cutPoints(sql, 1).length, file).toBeGreaterThan(3);
      expect(comparable(await parseStatements(sql, 1)), file).toEqual(comparable(wholeParse(sql)));
    }
  });

  it('on a generated 200-table schema with its default piece size', async () => {
    const sql = generate(200).schemaSql;
    expect(cutPoints(sql, 128 * 1024).length).toBeGreaterThan(0);
    expect(comparable(await parseStatements(sql))).toEqual(comparable(wholeParse(sql)));
  });

  it('with multi-byte text before a cut (locations stay byte offsets of the whole text)', async () => {
    const sql = "select 'héllo 🐘';\nselect 'ñ';\ncomment on table t is 'ü';\n";
    const pieces = await parseStatements(sql, 1);
    expect(pieces.map((s) => s.stmt_location)).toEqual(wholeParse(sql).map((s) => s.stmt_location));
  });

  // A `;` the cutter takes for a statement's end but is not: the piece would change meaning.
  const tricky: [string, string][] = [
    ['a line comment', 'select 1;\n-- a; drop table victims;\nselect 2;\n'],
    ['a block comment, nested', 'select 1; /* a /* b; */ drop table victims; */ select 2;'],
    [
      'a dollar-quoted body',
      'create function f() returns int language sql as $body$ select 1; $body$; select 2;',
    ],
    ['an escape string', "select E'it\\'s; drop table victims; --'; select 2;"],
    ['a quoted identifier', 'create table "a;b" (id int); select 2;'],
    [
      'a BEGIN ATOMIC body',
      'create function g() returns int language sql begin atomic select 1; select 2; end; select 3;',
    ],
    ['a doubled quote', "select 'it''s; fine'; select 2;"],
    ['empty statements', 'select 1;;; select 2;'],
  ];
  for (const [where, sql] of tricky) {
    it(`with a semicolon inside ${where}`, async () => {
      expect(comparable(await parseStatements(sql, 1))).toEqual(comparable(wholeParse(sql)));
    });
  }

  it('a cut inside a BEGIN ATOMIC body (the cutter does not know them) falls back to a whole parse', async () => {
    const sql =
      'create function g() returns int language sql begin atomic select 1; select 2; end; select 3;';
    expect(cutPoints(sql, 1)).toContain(sql.indexOf('select 1;') + 'select 1;'.length);
    expect(await parseInPieces(sql, [sql.indexOf('select 1;') + 'select 1;'.length])).toBeUndefined();
    expect(comparable(await parseStatements(sql, 1))).toEqual(comparable(wholeParse(sql)));
  });

  it('a piece is trusted only when the parser ends a statement at its cut', async () => {
    // Cut inside a line comment: the rest of the comment would start the next piece as SQL.
    const sql = 'select 1;\n-- a; drop table victims;\nselect 2;\n';
    expect(await parseInPieces(sql, [sql.indexOf('a;') + 2])).toBeUndefined();
    // Cut inside a string: the piece does not parse.
    const quoted = "select 'a; b'; select 2;";
    expect(await parseInPieces(quoted, [quoted.indexOf('a;') + 2])).toBeUndefined();
    // A right cut is taken.
    expect(await parseInPieces(sql, [sql.indexOf('select 1;') + 9])).toHaveLength(2);
  });

  it('a syntax error is reported as by the whole parse, at its position in the whole text', async () => {
    const sql = `${'select 1;\n'.repeat(50)}select from where;\n${'select 2;\n'.repeat(50)}`;
    const whole = (await errorOf(() => wholeParse(sql))) as { message: string; sqlDetails?: unknown };
    const pieces = (await errorOf(() => parseStatements(sql, 20))) as {
      message: string;
      sqlDetails?: unknown;
    };
    expect(pieces.message).toBe(whole.message);
    expect(pieces.sqlDetails).toEqual(whole.sqlDetails);
  });

  it('takes an empty or blank text as no statements', async () => {
    expect(await parseStatements('')).toEqual([]);
    expect(await parseStatements(' \n-- only a comment\n')).toEqual([]);
  });
});
