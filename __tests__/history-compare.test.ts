import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Migration } from '../src/core/migrations/model.js';
import { isEdited } from '../src/core/migrations/pending.js';
import { parseMigrationSql } from '../src/core/migrations/statements.js';

/*
 * A plan does not parse the files production has applied: it compares their text with the
 * statements the Supabase CLI stored (migrations/pending.ts isEdited). The CLI's pieces cover
 * the whole file, so without white space and semicolons they are the file's text: an unparsed
 * file is judged exactly as a parsed one.
 */
const FIXTURES = join(import.meta.dirname, '../__fixtures__/apps');

async function fixtureFiles(): Promise<{ path: string; sql: string }[]> {
  const files: { path: string; sql: string }[] = [];
  for (const app of await readdir(FIXTURES)) {
    const dir = join(FIXTURES, app, 'supabase/migrations');
    for (const name of await readdir(dir))
      files.push({ path: name, sql: await readFile(join(dir, name), 'utf8') });
  }
  return files;
}

const TRICKY = [
  '-- header\nbegin;\ncreate table public.a (id int);\ncommit;\n-- trailing comment',
  'select 1;;\n\n;select 2; /* after; */',
  "create function f() returns text language sql as $$ select 'a;b' $$;\n",
  '',
];

const FILE = {
  version: '1',
  name: 'x',
  path: 'x.sql',
  absolutePath: '/x.sql',
  checksum: 'c',
  transactional: true,
};
const NOT_SPLIT = { statements: [], cliStatements: [], strippedTransactionWrapper: false };

function migration(
  sql: string,
  parsed: Awaited<ReturnType<typeof parseMigrationSql>>,
  unparsed: boolean,
): Migration {
  return unparsed ? { ...FILE, sql, ...NOT_SPLIT, unparsed: true } : { ...FILE, sql, ...parsed };
}

describe('an applied file against the statements the CLI stored', () => {
  it('is unchanged, parsed or not, when its text is what was applied, however the pieces are spaced', async () => {
    const files = [...(await fixtureFiles()), ...TRICKY.map((sql, i) => ({ path: `tricky-${i}`, sql }))];
    expect(files.length).toBeGreaterThan(8);
    for (const { path, sql } of files) {
      const parsed = await parseMigrationSql(sql, path);
      const stored = {
        version: '1',
        name: 'x',
        statements: parsed.cliStatements.map((piece) => ` ${piece}\n`),
      };
      expect(isEdited(migration(sql, parsed, false), stored, undefined), path).toBe(false);
      expect(isEdited(migration(sql, parsed, true), stored, undefined), path).toBe(false);
    }
  });

  it('is edited, parsed or not, when its text changed since', async () => {
    const sql = 'create table public.a (id int);\ncreate index on public.a (id);';
    const parsed = await parseMigrationSql(sql, 'a.sql');
    const stored = { version: '1', name: 'x', statements: parsed.cliStatements };
    const changed = sql.replace('(id int)', '(id bigint)');
    const reparsed = await parseMigrationSql(changed, 'a.sql');
    expect(isEdited(migration(changed, reparsed, false), stored, undefined)).toBe(true);
    expect(isEdited(migration(changed, reparsed, true), stored, undefined)).toBe(true);
  });

  it('that no longer parses is judged by its text too', () => {
    const stored = { version: '1', name: 'x', statements: ['create tabel public.a (id int)'] };
    const invalid = (sql: string): Migration => ({
      ...FILE,
      sql,
      ...NOT_SPLIT,
      invalid: { code: 'MIGRATION_PARSE_ERROR', message: 'x.sql:1:8: syntax error' },
    });
    expect(isEdited(invalid('create tabel public.a (id int);\n'), stored, undefined)).toBe(false);
    expect(isEdited(invalid('create tabel public.b (id int);\n'), stored, undefined)).toBe(true);
  });
});
