import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { beyondDatabase } from '../src/core/migrations/beyond-database.js';
import { ensureParser } from '../src/core/migrations/parser.js';

function classify(sql: string) {
  const tree = parseSync(sql) as { stmts: { stmt: Record<string, Record<string, unknown>> }[] };
  const [nodeType, node] = Object.entries(tree.stmts[0]?.stmt ?? {})[0] as [string, Record<string, unknown>];
  return beyondDatabase(nodeType, node).map((f) => `${f.code}${f.clusterStatement ? '!' : ''}`);
}

describe('statements that reach beyond the database', () => {
  beforeAll(() => ensureParser());

  it.each([
    ['DROP DATABASE postgres', ['database-change!']],
    ['ALTER DATABASE postgres RENAME TO x', ['database-change!']],
    ['ALTER DATABASE postgres SET search_path = x', ['database-change!']],
    ['COMMENT ON DATABASE postgres IS $$x$$', ['database-change!']],
    ['CREATE ROLE admin SUPERUSER', ['role-change!']],
    ['ALTER ROLE authenticated BYPASSRLS', ['role-change!']],
    ["ALTER ROLE authenticated SET statement_timeout = '5s'", ['role-change!']],
    ["ALTER USER postgres PASSWORD 'x'", ['role-change!']],
    ['GRANT service_role TO anon', ['role-change!']],
    ['ALTER ROLE a RENAME TO b', ['role-change!']],
    ["ALTER SYSTEM SET log_statement = 'none'", ['system-change!']],
    ["LOAD 'auto_explain'", ['system-change!']],
    ['SELECT pg_reload_conf()', ['system-change']],
    ['SELECT pg_terminate_backend(pid) FROM pg_stat_activity', ['other-sessions']],
    ["SELECT dblink_exec('host=db', 'drop table t')", ['remote-connection']],
    ["SELECT * FROM dblink('x', 'select 1') AS t(a int)", ['remote-connection']],
    ['CREATE EXTENSION dblink', ['remote-connection']],
    ["CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db')", ['remote-connection']],
    ["COPY t FROM PROGRAM 'env'", ['server-program']],
    ["COPY t TO '/tmp/out'", ['server-file']],
    ["SELECT pg_read_file('/etc/passwd')", ['server-file']],
    ["CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'lib', 'sym'", ['server-program']],
    ["DO $$ BEGIN EXECUTE 'COPY t FROM PROGRAM ''env'''; END $$", ['server-program']],
    [
      "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT dblink_exec('x', 'y') $$",
      ['remote-connection'],
    ],
    ['DO $$ BEGIN EXECUTE $q$ALTER ROLE anon BYPASSRLS$q$; END $$', ['role-change']],
  ])('%s', (sql, expected) => {
    expect(classify(sql)).toEqual(expected);
  });

  it.each([
    'CREATE TABLE t (id int)',
    'COPY t FROM STDIN',
    'CREATE EXTENSION pgcrypto',
    'GRANT SELECT ON t TO anon',
    'ALTER TABLE t OWNER TO postgres',
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
    "DO $$ BEGIN RAISE NOTICE 'programs'; END $$",
  ])('%s stays in its database', (sql) => {
    expect(classify(sql)).toEqual([]);
  });
});
