import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, disconnect } from '../src/core/db/connect.js';
import {
  type AppliedRow,
  ensureHistoryTables,
  readHistory,
  textDigest,
} from '../src/core/migrations/history.js';
import type { Migration } from '../src/core/migrations/model.js';
import { isEdited } from '../src/core/migrations/pending.js';
import { parseMigrationSql } from '../src/core/migrations/statements.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/*
 * A plan does not parse the files production has applied, nor fetch the statements the
 * Supabase CLI stored: the server digests them (history.ts textDigest) and the file's text is
 * compared by the same digest (migrations/pending.ts isEdited). The CLI's pieces cover the whole
 * file, so without white space and semicolons they are the file's text: an unparsed file is
 * judged exactly as a parsed one, and the server's digest is exactly the one computed here.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  const session = await connect(db.url);
  try {
    await ensureHistoryTables(session.client);
  } finally {
    await disconnect(session);
  }
});
afterAll(async () => {
  await db.drop();
});

let nextVersion = 1;
/** The row as production stores it, read back as a plan reads it. */
async function stored(statements: string[]): Promise<AppliedRow> {
  const version = String(nextVersion++);
  await db.query(
    'insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)',
    [version, 'x', statements],
  );
  const session = await connect(db.url);
  try {
    const row = (await readHistory(session.client)).rows.find((r) => r.version === version);
    if (!row) throw new Error('the row was not read back');
    return row;
  } finally {
    await disconnect(session);
  }
}
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
  // Windows line ends, and white space of other scripts in a comment.
  "select 1;\r\n\t-- a note\u00a0with\u3000odd spaces\r\nselect 'é\tü';",
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
      const row = await stored(parsed.cliStatements.map((piece) => ` ${piece}\n`));
      expect(isEdited(migration(sql, parsed, false), row, undefined), path).toBe(false);
      expect(isEdited(migration(sql, parsed, true), row, undefined), path).toBe(false);
    }
  });

  it('is edited, parsed or not, when its text changed since', async () => {
    const sql = 'create table public.a (id int);\ncreate index on public.a (id);';
    const parsed = await parseMigrationSql(sql, 'a.sql');
    const row = await stored(parsed.cliStatements);
    const changed = sql.replace('(id int)', '(id bigint)');
    const reparsed = await parseMigrationSql(changed, 'a.sql');
    expect(isEdited(migration(changed, reparsed, false), row, undefined)).toBe(true);
    expect(isEdited(migration(changed, reparsed, true), row, undefined)).toBe(true);
    // A change inside a string is a change, even of white space or a semicolon next to it.
    const quoted = await stored(["insert into public.a values ('a b')"]);
    const respaced = "insert into public.a values ('ab');";
    expect(
      isEdited(migration(respaced, await parseMigrationSql(respaced, 'a.sql'), true), quoted, undefined),
    ).toBe(false);
  });

  it('that no longer parses is judged by its text too', async () => {
    const row = await stored(['create tabel public.a (id int)']);
    const invalid = (sql: string): Migration => ({
      ...FILE,
      sql,
      ...NOT_SPLIT,
      invalid: { code: 'MIGRATION_PARSE_ERROR', message: 'x.sql:1:8: syntax error' },
    });
    expect(isEdited(invalid('create tabel public.a (id int);\n'), row, undefined)).toBe(false);
    expect(isEdited(invalid('create tabel public.b (id int);\n'), row, undefined)).toBe(true);
  });

  it('is digested by the server exactly as here, whatever the white space, the script or the cut', async () => {
    const spaces = '\t\n\v\f\r \u00a0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
    const text = `select 'é${spaces}ü' ;${spaces}; select 2 -- 日本語 ${spaces}`;
    const row = await stored([text.slice(0, 17), text.slice(17, 40), text.slice(40)]);
    expect(row.textDigest).toBe(textDigest([text]));
    expect(row.textDigest).toBe(textDigest(["select'éü'select2--日本語"]));
    expect(row.textDigest).not.toBe(textDigest(["select'éü'select2--日本"]));
  });

  it('is unknown, so unchanged, when the CLI stored no statements', async () => {
    const [row] = [await stored([])];
    await db.query('update supabase_migrations.schema_migrations set statements = null where version = $1', [
      row?.version,
    ]);
    const session = await connect(db.url);
    try {
      const read = (await readHistory(session.client)).rows.find((r) => r.version === row?.version);
      expect(read?.textDigest).toBeNull();
      expect(
        isEdited(
          migration('select 1;', await parseMigrationSql('select 1;', 'x.sql'), true),
          read as AppliedRow,
          undefined,
        ),
      ).toBe(false);
    } finally {
      await disconnect(session);
    }
  });
});
