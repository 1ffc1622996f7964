import { describe, expect, it } from 'vitest';
import { SupagateError } from '../src/core/errors.js';
import type { ParsedSql, Statement } from '../src/core/migrations/model.js';
import { parseMigrationSql } from '../src/core/migrations/statements.js';

const FILE = 'supabase/migrations/001_test.sql';

function parse(sql: string): Promise<ParsedSql> {
  return parseMigrationSql(sql, FILE);
}

async function parseError(sql: string): Promise<SupagateError> {
  const error = await parse(sql).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SupagateError);
  return error as SupagateError;
}

/**
 * Positions index the file as a JavaScript string: `offset` is a UTF-16 index, `column` is
 * 1 + the UTF-16 index within the line (so an emoji counts 2, like in VS Code and LSP).
 */
function expectPositionsConsistent(sql: string, statements: Statement[]): void {
  const lines = sql.split('\n');
  for (const statement of statements) {
    expect(sql.slice(statement.offset, statement.offset + statement.sql.length)).toBe(statement.sql);
    const firstLine = statement.sql.split('\n')[0] as string;
    expect(lines[statement.line - 1]?.slice(statement.column - 1).startsWith(firstLine)).toBe(true);
  }
}

function positions(statements: Statement[]) {
  return statements.map(({ index, sql, line, column }) => ({ index, sql, line, column }));
}

async function onlyStatement(sql: string): Promise<Statement> {
  const { statements } = await parse(sql);
  expect(statements).toHaveLength(1);
  return statements[0] as Statement;
}

describe('parseMigrationSql: statements and positions', () => {
  it('keeps the parse tree of each statement: the body under its node type', async () => {
    const { statements } = await parse('create index concurrently i on public.t (a);\ndrop table t;');
    expect(statements.map((s) => s.nodeType)).toEqual(['IndexStmt', 'DropStmt']);
    expect(statements[0]?.tree).toMatchObject({
      idxname: 'i',
      concurrent: true,
      relation: { schemaname: 'public', relname: 't' },
    });
    expect(statements[1]?.tree).toMatchObject({ removeType: 'OBJECT_TABLE' });
  });

  it('splits a multi-line file and gives each statement its text, line and column', async () => {
    const sql = [
      'CREATE TABLE profiles (',
      '  id uuid PRIMARY KEY,',
      '  name text',
      ');',
      '',
      '  ALTER TABLE profiles ENABLE ROW LEVEL SECURITY; CREATE INDEX profiles_name_idx ON profiles (name);',
      'GRANT SELECT ON profiles TO authenticated',
    ].join('\n');
    const { statements, strippedTransactionWrapper } = await parse(sql);
    expect(positions(statements)).toEqual([
      {
        index: 0,
        sql: 'CREATE TABLE profiles (\n  id uuid PRIMARY KEY,\n  name text\n)',
        line: 1,
        column: 1,
      },
      { index: 1, sql: 'ALTER TABLE profiles ENABLE ROW LEVEL SECURITY', line: 6, column: 3 },
      { index: 2, sql: 'CREATE INDEX profiles_name_idx ON profiles (name)', line: 6, column: 51 },
      { index: 3, sql: 'GRANT SELECT ON profiles TO authenticated', line: 7, column: 1 },
    ]);
    expect(statements.map((s) => s.nodeType)).toEqual([
      'CreateStmt',
      'AlterTableStmt',
      'IndexStmt',
      'GrantStmt',
    ]);
    expect(strippedTransactionWrapper).toBe(false);
    expectPositionsConsistent(sql, statements);
  });

  it('starts a statement at its first token, after the comments before it', async () => {
    const sql = '-- header\n/* block /* nested */ still */\n\n  SELECT 1;\n-- about the next\nSELECT 2;';
    const { statements } = await parse(sql);
    expect(positions(statements)).toEqual([
      { index: 0, sql: 'SELECT 1', line: 4, column: 3 },
      { index: 1, sql: 'SELECT 2', line: 6, column: 1 },
    ]);
    expectPositionsConsistent(sql, statements);
  });

  it('keeps positions right after multi-byte characters (é is 2 bytes, an emoji 4 bytes and 2 UTF-16 units)', async () => {
    const sql = [
      'CREATE TABLE café (nom text, emoji text);',
      "INSERT INTO café VALUES ('é', '😀'); INSERT INTO café VALUES ('ü', '🎉');",
      "UPDATE café SET emoji = '🚀🚀' WHERE nom = 'ü';",
      'SELECT nom FROM café;',
    ].join('\n');
    const { statements } = await parse(sql);
    expect(positions(statements)).toEqual([
      { index: 0, sql: 'CREATE TABLE café (nom text, emoji text)', line: 1, column: 1 },
      { index: 1, sql: "INSERT INTO café VALUES ('é', '😀')", line: 2, column: 1 },
      // "INSERT INTO café VALUES ('é', '😀'); " is 37 UTF-16 units (36 characters).
      { index: 2, sql: "INSERT INTO café VALUES ('ü', '🎉')", line: 2, column: 38 },
      { index: 3, sql: "UPDATE café SET emoji = '🚀🚀' WHERE nom = 'ü'", line: 3, column: 1 },
      { index: 4, sql: 'SELECT nom FROM café', line: 4, column: 1 },
    ]);
    expect(statements[4]?.offset).toBe(sql.indexOf('SELECT nom'));
    expectPositionsConsistent(sql, statements);
  });

  it('keeps a dollar-quoted plpgsql body with semicolons in one statement', async () => {
    const sql = [
      'CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $fn$',
      'BEGIN',
      '  NEW.updated_at := now(); -- a comment; with a semicolon',
      "  RAISE NOTICE 'done; really';",
      '  RETURN NEW;',
      'END;',
      '$fn$;',
      'CREATE TRIGGER touch BEFORE UPDATE ON profiles FOR EACH ROW EXECUTE FUNCTION touch_updated_at();',
    ].join('\n');
    const { statements, cliStatements } = await parse(sql);
    expect(statements.map((s) => s.nodeType)).toEqual(['CreateFunctionStmt', 'CreateTrigStmt']);
    expect(statements[0]?.sql.endsWith('END;\n$fn$')).toBe(true);
    expect(statements[1]).toMatchObject({ line: 8, column: 1 });
    expect(cliStatements).toHaveLength(2);
  });

  it('keeps a SQL-standard BEGIN ATOMIC … END function body in one statement and does not take its BEGIN for a transaction', async () => {
    const sql = [
      'CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE sql',
      'BEGIN ATOMIC',
      '  SELECT i + 1;',
      'END;',
      'SELECT add_one(1);',
    ].join('\n');
    const { statements, cliStatements, strippedTransactionWrapper } = await parse(sql);
    expect(positions(statements)).toEqual([
      {
        index: 0,
        sql: 'CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT i + 1;\nEND',
        line: 1,
        column: 1,
      },
      { index: 1, sql: 'SELECT add_one(1)', line: 5, column: 1 },
    ]);
    expect(strippedTransactionWrapper).toBe(false);
    expect(cliStatements).toEqual(statements.map((s) => s.sql));
  });

  it('returns no statements for an empty file or one of white space only', async () => {
    for (const sql of ['', '\n  \n']) {
      const { statements, cliStatements } = await parse(sql);
      expect(statements).toEqual([]);
      expect(cliStatements).toEqual([]);
    }
  });

  it('returns no statements for a file of comments only', async () => {
    const { statements, cliStatements } = await parse('-- nothing yet\n/* really nothing */\n');
    expect(statements).toEqual([]);
    expect(cliStatements).toEqual(['-- nothing yet\n/* really nothing */']);
  });
});

describe('parseMigrationSql: cliStatements (as the Supabase CLI stores them)', () => {
  it('keeps leading comments, trims white space and the trailing semicolon, and makes a trailing comment its own piece', async () => {
    const sql = [
      '-- create the table',
      'CREATE TABLE t (id int) ;   ',
      '',
      '/* seed; with a semicolon in the comment */',
      'INSERT INTO t VALUES (1);',
      '-- trailing note',
      '',
    ].join('\n');
    const { cliStatements, statements } = await parse(sql);
    expect(cliStatements).toEqual([
      '-- create the table\nCREATE TABLE t (id int)',
      '/* seed; with a semicolon in the comment */\nINSERT INTO t VALUES (1)',
      '-- trailing note',
    ]);
    expect(statements).toHaveLength(2);
  });

  it('does not split inside strings, quoted identifiers, dollar quotes or comments', async () => {
    const sql = `SELECT 'a;b' AS "c;d";\nSELECT $$;$$, $tag$ ; $tag$; -- x;y\nSELECT 3`;
    const { cliStatements } = await parse(sql);
    expect(cliStatements).toEqual([
      `SELECT 'a;b' AS "c;d"`,
      'SELECT $$;$$, $tag$ ; $tag$',
      '-- x;y\nSELECT 3',
    ]);
  });

  it('drops the empty pieces of doubled semicolons, like the CLI', async () => {
    const sql = 'SELECT 1;;\nSELECT 2;\n; -- after an empty statement\n;\nSELECT 3;;';
    const { cliStatements, statements } = await parse(sql);
    expect(cliStatements).toEqual(['SELECT 1', 'SELECT 2', '-- after an empty statement', 'SELECT 3']);
    expect(statements.map((s) => s.sql)).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3']);
  });

  it('keeps BEGIN and COMMIT in cliStatements when the wrapper is stripped from the statements', async () => {
    const { cliStatements } = await parse('BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n');
    expect(cliStatements).toEqual(['BEGIN', 'CREATE TABLE t (id int)', 'COMMIT']);
  });
});

describe('parseMigrationSql: transaction control', () => {
  it('strips a BEGIN; … COMMIT; wrapper around the whole file', async () => {
    const sql = 'BEGIN;\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nCOMMIT;\n';
    const { statements, strippedTransactionWrapper } = await parse(sql);
    expect(strippedTransactionWrapper).toBe(true);
    expect(positions(statements)).toEqual([
      { index: 0, sql: 'CREATE TABLE t (id int)', line: 2, column: 1 },
      { index: 1, sql: 'INSERT INTO t VALUES (1)', line: 3, column: 1 },
    ]);
  });

  it.each([
    ['START TRANSACTION … END', 'START TRANSACTION;\nCREATE TABLE t (id int);\nEND;'],
    ['BEGIN TRANSACTION … COMMIT WORK', 'begin transaction;\nCREATE TABLE t (id int);\ncommit work;'],
    ['BEGIN WORK … END TRANSACTION', 'BEGIN WORK;\nCREATE TABLE t (id int);\nEND TRANSACTION;'],
  ])('strips a %s wrapper', async (_kind, sql) => {
    const { statements, strippedTransactionWrapper } = await parse(sql);
    expect(strippedTransactionWrapper).toBe(true);
    expect(statements.map((s) => s.sql)).toEqual(['CREATE TABLE t (id int)']);
  });

  it.each([
    ['a COMMIT in the middle', 'CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);', '2:1'],
    ['a ROLLBACK', 'CREATE TABLE a (id int);\n  ROLLBACK;', '2:3'],
    [
      'a second BEGIN inside the wrapper',
      'BEGIN;\nCREATE TABLE a (id int);\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;',
      '3:1',
    ],
    ['a COMMIT after a block', 'BEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;', '4:1'],
    ['COMMIT AND CHAIN', 'BEGIN;\nSELECT 1;\nCOMMIT AND CHAIN;\nCOMMIT;', '3:1'],
    ['a ROLLBACK inside a block', 'SELECT 1;\nBEGIN;\nSELECT 2;\nROLLBACK;\nSELECT 3;', '4:1'],
    ['a BEGIN without COMMIT', 'BEGIN;\nCREATE TABLE a (id int);', '1:1'],
    ['BEGIN … ROLLBACK', 'BEGIN;\nCREATE TABLE a (id int);\nROLLBACK;', '3:1'],
    ['a BEGIN left open after a block', 'BEGIN;\nSELECT 1;\nCOMMIT;\n\nBEGIN;\nSELECT 2;', '5:1'],
    ['PREPARE TRANSACTION', "CREATE TABLE a (id int);\nPREPARE TRANSACTION 'x';", '2:1'],
    ['COMMIT PREPARED', "SELECT 1; COMMIT PREPARED 'x';", '1:11'],
    ['ROLLBACK PREPARED', "ROLLBACK PREPARED 'x';", '1:1'],
  ])('rejects %s with MIGRATION_TRANSACTION_CONTROL at file:line:column', async (_kind, sql, position) => {
    const error = await parseError(sql);
    expect(error.code).toBe('MIGRATION_TRANSACTION_CONTROL');
    expect(error.message.startsWith(`${FILE}:${position}:`)).toBe(true);
    const [line, column] = position.split(':').map(Number);
    expect(error.details).toMatchObject({ file: FILE, line, column });
    expect(error.hint).toBeTruthy();
  });

  it.each([
    ['BEGIN ISOLATION LEVEL SERIALIZABLE', 'BEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 1;\nCOMMIT;'],
    ['START TRANSACTION READ ONLY', 'START TRANSACTION READ ONLY;\nSELECT 1;\nCOMMIT;'],
  ])('rejects a %s wrapper (transaction options)', async (_kind, sql) => {
    const error = await parseError(sql);
    expect(error.code).toBe('MIGRATION_TRANSACTION_CONTROL');
    expect(error.message.startsWith(`${FILE}:1:1:`)).toBe(true);
    expect(error.hint).toBeTruthy();
  });

  it('strips a BEGIN … COMMIT block in the middle of a file (the Realtime snippet) and keeps the pair in cliStatements', async () => {
    const sql = [
      'create table public.messages (id int);',
      'begin;',
      '  drop publication if exists supabase_realtime;',
      '  create publication supabase_realtime;',
      'commit;',
      'alter publication supabase_realtime add table public.messages;',
    ].join('\n');
    const { statements, cliStatements, strippedTransactionWrapper } = await parse(sql);
    expect(strippedTransactionWrapper).toBe(true);
    expect(positions(statements)).toEqual([
      { index: 0, sql: 'create table public.messages (id int)', line: 1, column: 1 },
      { index: 1, sql: 'drop publication if exists supabase_realtime', line: 3, column: 3 },
      { index: 2, sql: 'create publication supabase_realtime', line: 4, column: 3 },
      { index: 3, sql: 'alter publication supabase_realtime add table public.messages', line: 6, column: 1 },
    ]);
    expect(cliStatements).toEqual([
      'create table public.messages (id int)',
      'begin',
      'drop publication if exists supabase_realtime',
      'create publication supabase_realtime',
      'commit',
      'alter publication supabase_realtime add table public.messages',
    ]);
  });

  it('strips two BEGIN … COMMIT blocks in one file', async () => {
    const { statements } = await parse(
      'BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id int);\nEND;',
    );
    expect(statements.map((s) => s.sql)).toEqual(['CREATE TABLE a (id int)', 'CREATE TABLE b (id int)']);
  });

  it('rejects BEGIN with options in the middle of a file', async () => {
    const error = await parseError('SELECT 1;\nBEGIN ISOLATION LEVEL SERIALIZABLE;\nSELECT 2;\nCOMMIT;');
    expect(error.code).toBe('MIGRATION_TRANSACTION_CONTROL');
    expect(error.message.startsWith(`${FILE}:2:1:`)).toBe(true);
  });

  it('rejects a block around CREATE INDEX CONCURRENTLY in the middle of a file, but not one outside the block', async () => {
    const error = await parseError(
      'CREATE TABLE a (id int);\nBEGIN;\nCREATE INDEX CONCURRENTLY a_id ON a (id);\nCOMMIT;',
    );
    expect(error.code).toBe('MIGRATION_TRANSACTION_CONTROL');
    expect(error.message.startsWith(`${FILE}:3:1:`)).toBe(true);
    const { statements } = await parse(
      'BEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY a_id ON a (id);',
    );
    expect(statements.map((s) => s.nonTransactional)).toEqual([undefined, 'CREATE INDEX CONCURRENTLY']);
  });

  it('rejects a wrapper around CREATE INDEX CONCURRENTLY and points at the index', async () => {
    const error = await parseError(
      'BEGIN;\nCREATE TABLE a (id int);\n  CREATE INDEX CONCURRENTLY a_id ON a (id);\nCOMMIT;\n',
    );
    expect(error.code).toBe('MIGRATION_TRANSACTION_CONTROL');
    expect(error.message.startsWith(`${FILE}:3:3:`)).toBe(true);
    expect(error.message).toContain('CREATE INDEX CONCURRENTLY');
  });

  it('keeps SAVEPOINT, ROLLBACK TO SAVEPOINT and RELEASE as statements', async () => {
    const sql = [
      'SAVEPOINT before_seed;',
      'INSERT INTO t VALUES (1);',
      'ROLLBACK TO SAVEPOINT before_seed;',
      'ROLLBACK TO before_seed;',
      'RELEASE SAVEPOINT before_seed;',
      'RELEASE before_seed;',
    ].join('\n');
    const { statements, strippedTransactionWrapper } = await parse(sql);
    expect(strippedTransactionWrapper).toBe(false);
    expect(statements.map((s) => s.sql)).toEqual([
      'SAVEPOINT before_seed',
      'INSERT INTO t VALUES (1)',
      'ROLLBACK TO SAVEPOINT before_seed',
      'ROLLBACK TO before_seed',
      'RELEASE SAVEPOINT before_seed',
      'RELEASE before_seed',
    ]);
  });

  it('keeps savepoints inside a stripped BEGIN … COMMIT wrapper', async () => {
    const { statements, strippedTransactionWrapper } = await parse(
      'BEGIN;\nSAVEPOINT s;\nSELECT 1;\nRELEASE s;\nCOMMIT;',
    );
    expect(strippedTransactionWrapper).toBe(true);
    expect(statements.map((s) => s.sql)).toEqual(['SAVEPOINT s', 'SELECT 1', 'RELEASE s']);
  });
});

describe('parseMigrationSql: syntax errors', () => {
  it('reports MIGRATION_PARSE_ERROR at file:line:column', async () => {
    const error = await parseError('CREATE TABLE a (id int);\nCREATE TABLE b (id int,);');
    expect(error.code).toBe('MIGRATION_PARSE_ERROR');
    expect(error.message.startsWith(`${FILE}:2:24:`)).toBe(true);
    expect(error.message).toContain('syntax error');
    expect(error.details).toMatchObject({ file: FILE, line: 2, column: 24 });
    expect(error.hint).toBeTruthy();
  });

  it('reports the right column after a multi-byte character on the same line', async () => {
    // `frm` parses as a column alias, so the error is at `x`, column 16.
    const error = await parseError("SELECT 1;\nSELECT 'é' frm x;");
    expect(error.message.startsWith(`${FILE}:2:16:`)).toBe(true);
  });

  it('reports the right line and column after emoji on earlier lines', async () => {
    const error = await parseError("SELECT '😀😀';\n-- 🎉 party\nSELECT 'é' frm x;");
    expect(error.message.startsWith(`${FILE}:3:16:`)).toBe(true);
  });

  it('counts an emoji before the error on the same line like statement columns do (2 UTF-16 units)', async () => {
    const sql = "SELECT '😀' frm x;";
    const error = await parseError(sql);
    expect(error.details).toMatchObject({ line: 1, column: sql.indexOf('x') + 1 });
    expect(error.message.startsWith(`${FILE}:1:17:`)).toBe(true);
  });

  it('reports an error at the end of the input', async () => {
    const error = await parseError('SELECT 1;\nCREATE TABLE t (');
    expect(error.code).toBe('MIGRATION_PARSE_ERROR');
    expect(error.message).toMatch(new RegExp(`^${FILE}:2:\\d+: `));
  });
});

describe('parseMigrationSql: statements that cannot run in a transaction', () => {
  it.each([
    ['CREATE INDEX CONCURRENTLY i ON t (a)', 'CREATE INDEX CONCURRENTLY'],
    ['CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)', 'CREATE INDEX CONCURRENTLY'],
    ['DROP INDEX CONCURRENTLY i', 'DROP INDEX CONCURRENTLY'],
    ['DROP INDEX CONCURRENTLY IF EXISTS i CASCADE', 'DROP INDEX CONCURRENTLY'],
    ['REINDEX SYSTEM postgres', 'REINDEX SYSTEM'],
    ['REINDEX DATABASE postgres', 'REINDEX DATABASE'],
    ['REINDEX SCHEMA public', 'REINDEX SCHEMA'],
    ['REINDEX TABLE CONCURRENTLY t', 'REINDEX CONCURRENTLY'],
    ['REINDEX INDEX CONCURRENTLY i', 'REINDEX CONCURRENTLY'],
    ['REINDEX (CONCURRENTLY) TABLE t', 'REINDEX CONCURRENTLY'],
    ['REINDEX (VERBOSE, CONCURRENTLY true) INDEX i', 'REINDEX CONCURRENTLY'],
    ['VACUUM', 'VACUUM'],
    ['VACUUM t', 'VACUUM'],
    ['VACUUM FULL t', 'VACUUM'],
    ['VACUUM (ANALYZE, VERBOSE) t', 'VACUUM'],
    ['CREATE DATABASE d', 'CREATE DATABASE'],
    ['DROP DATABASE d', 'DROP DATABASE'],
    ['DROP DATABASE IF EXISTS d WITH (FORCE)', 'DROP DATABASE'],
    ['ALTER DATABASE d SET TABLESPACE ts', 'ALTER DATABASE SET TABLESPACE'],
    ["CREATE TABLESPACE ts LOCATION '/srv/ts'", 'CREATE TABLESPACE'],
    ['DROP TABLESPACE ts', 'DROP TABLESPACE'],
    ['DROP TABLESPACE IF EXISTS ts', 'DROP TABLESPACE'],
    ["ALTER SYSTEM SET work_mem = '4MB'", 'ALTER SYSTEM'],
    ['ALTER SYSTEM RESET ALL', 'ALTER SYSTEM'],
    ['CLUSTER', 'CLUSTER without a table'],
    ['CLUSTER VERBOSE', 'CLUSTER without a table'],
    [
      "CREATE SUBSCRIPTION s CONNECTION 'host=db dbname=app' PUBLICATION p",
      'CREATE SUBSCRIPTION that creates a replication slot',
    ],
    [
      "CREATE SUBSCRIPTION s CONNECTION 'host=db dbname=app' PUBLICATION p WITH (create_slot = true)",
      'CREATE SUBSCRIPTION that creates a replication slot',
    ],
    [
      "CREATE SUBSCRIPTION s CONNECTION 'host=db dbname=app' PUBLICATION p WITH (connect = true, enabled = false)",
      'CREATE SUBSCRIPTION that creates a replication slot',
    ],
    ['DROP SUBSCRIPTION s', 'DROP SUBSCRIPTION'],
    ['DROP SUBSCRIPTION IF EXISTS s', 'DROP SUBSCRIPTION'],
    ['ALTER SUBSCRIPTION s REFRESH PUBLICATION', 'ALTER SUBSCRIPTION … REFRESH PUBLICATION'],
    [
      'ALTER SUBSCRIPTION s REFRESH PUBLICATION WITH (copy_data = false)',
      'ALTER SUBSCRIPTION … REFRESH PUBLICATION',
    ],
    ['ALTER SUBSCRIPTION s ADD PUBLICATION p2', 'ALTER SUBSCRIPTION … PUBLICATION with refresh'],
    ['ALTER SUBSCRIPTION s SET PUBLICATION p2', 'ALTER SUBSCRIPTION … PUBLICATION with refresh'],
    [
      'ALTER SUBSCRIPTION s DROP PUBLICATION p2 WITH (refresh = true)',
      'ALTER SUBSCRIPTION … PUBLICATION with refresh',
    ],
    ['ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY', 'ALTER TABLE … DETACH PARTITION CONCURRENTLY'],
    ['DISCARD ALL', 'DISCARD ALL'],
  ])('%s → %s', async (sql, reason) => {
    const statement = await onlyStatement(sql);
    expect(statement.nonTransactional).toBe(reason);
  });

  it.each([
    'ANALYZE',
    'ANALYZE t',
    'CLUSTER t USING i',
    'CLUSTER t',
    'REINDEX TABLE t',
    'REINDEX INDEX i',
    'REINDEX (VERBOSE) TABLE t',
    'REINDEX (CONCURRENTLY false) TABLE t',
    'REINDEX (CONCURRENTLY off) INDEX i',
    'CREATE INDEX i ON t (a)',
    'CREATE INDEX "concurrently" ON t (a)',
    'DROP INDEX i',
    'DROP INDEX IF EXISTS i, j',
    'DROP TABLE t',
    "CREATE SUBSCRIPTION s CONNECTION 'host=db dbname=app' PUBLICATION p WITH (connect = false)",
    "CREATE SUBSCRIPTION s CONNECTION 'host=db dbname=app' PUBLICATION p WITH (create_slot = false)",
    "CREATE SUBSCRIPTION s CONNECTION 'host=db dbname=app' PUBLICATION p WITH (connect = false, slot_name = NONE)",
    'ALTER SUBSCRIPTION s ADD PUBLICATION p2 WITH (refresh = false)',
    'ALTER SUBSCRIPTION s SET PUBLICATION p2 WITH (refresh = false)',
    'ALTER SUBSCRIPTION s DISABLE',
    'ALTER SUBSCRIPTION s ENABLE',
    'ALTER SUBSCRIPTION s SET (slot_name = NONE)',
    'REFRESH MATERIALIZED VIEW CONCURRENTLY mv',
    "ALTER DATABASE d SET work_mem = '1MB'",
    'ALTER DATABASE d WITH CONNECTION LIMIT 5',
    'ALTER DATABASE d RENAME TO e',
    'DISCARD PLANS',
    'DISCARD TEMP',
    "ALTER TYPE e ADD VALUE 'x'",
    "ALTER TYPE e ADD VALUE IF NOT EXISTS 'y' BEFORE 'x'",
    'ALTER TABLE p DETACH PARTITION p1',
    'ALTER TABLE p DETACH PARTITION p1 FINALIZE',
    "SELECT 'VACUUM'",
    'CHECKPOINT',
  ])('%s → transactional', async (sql) => {
    const statement = await onlyStatement(sql);
    expect(statement.nonTransactional).toBeUndefined();
  });
});
