import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SupagateError } from '../src/core/errors.js';
import { checksumOf } from '../src/core/migrations/checksum.js';
import { assertRunnable, compareVersions, discoverMigrations } from '../src/core/migrations/files.js';
import { rejection } from './harness/errors.js';

const MIGRATIONS = 'supabase/migrations';
const ROLLBACKS = 'supabase/rollbacks';

const projects: string[] = [];

afterEach(async () => {
  await Promise.all(projects.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A project directory with the given files (paths relative to the project root). */
async function makeProject(files: Record<string, string | Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'supagate-files-'));
  projects.push(root);
  for (const [path, content] of Object.entries(files)) {
    const absolute = join(root, path);
    await mkdir(dirname(absolute), { recursive: true });
    await writeFile(absolute, content);
  }
  return root;
}

function discover(projectDir: string, migrationsDir = MIGRATIONS, rollbacksDir = ROLLBACKS) {
  return discoverMigrations({ projectDir, migrationsDir, rollbacksDir });
}

/** The SupagateError a promise rejects with (fails the test when it resolves or throws something else). */
describe('compareVersions', () => {
  it('compares numerically, not as strings', () => {
    expect(compareVersions('2', '10')).toBeLessThan(0);
    expect(compareVersions('10', '2')).toBeGreaterThan(0);
    expect(compareVersions('7', '7')).toBe(0);
  });

  it('treats leading zeros as the same number', () => {
    expect(compareVersions('001', '1')).toBe(0);
    expect(compareVersions('009', '10')).toBeLessThan(0);
  });

  it('orders 14-digit timestamps and numbers beyond 2^53 exactly', () => {
    expect(compareVersions('20240101120000', '20240101115959')).toBeGreaterThan(0);
    expect(compareVersions('20231231235959', '20240101000000')).toBeLessThan(0);
    // Number() would make these two equal.
    expect(compareVersions('90071992547409921', '90071992547409920')).toBeGreaterThan(0);
  });
});

describe('discoverMigrations: names and order', () => {
  it('orders files by the numeric value of their version (2_b before 10_a)', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/10_a.sql`]: 'SELECT 10;',
      [`${MIGRATIONS}/2_b.sql`]: 'SELECT 2;',
      [`${MIGRATIONS}/1_c.sql`]: 'SELECT 1;',
    });
    const { migrations, warnings } = await discover(root);
    expect(migrations.map((m) => m.version)).toEqual(['1', '2', '10']);
    expect(migrations.map((m) => m.name)).toEqual(['c', 'b', 'a']);
    expect(warnings).toEqual([]);
  });

  it('keeps zero-padded versions as written (001_init.sql)', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/010_third.sql`]: 'SELECT 3;',
      [`${MIGRATIONS}/001_init.sql`]: 'SELECT 1;',
      [`${MIGRATIONS}/002_second.sql`]: 'SELECT 2;',
    });
    const { migrations } = await discover(root);
    expect(migrations.map((m) => [m.version, m.name])).toEqual([
      ['001', 'init'],
      ['002', 'second'],
      ['010', 'third'],
    ]);
  });

  it('reads 14-digit timestamp versions and names that contain underscores', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/20240102090000_add_profile_avatar.sql`]: 'SELECT 2;',
      [`${MIGRATIONS}/20240101120000_create_profiles.sql`]: 'SELECT 1;',
    });
    const { migrations } = await discover(root);
    expect(migrations.map((m) => [m.version, m.name])).toEqual([
      ['20240101120000', 'create_profiles'],
      ['20240102090000', 'add_profile_avatar'],
    ]);
  });

  it('reports paths relative to the project with forward slashes, and the SQL and statements of each file', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/001_init.sql`]: 'CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n',
    });
    const { migrations } = await discover(root);
    const [migration] = migrations;
    expect(migration?.path).toBe('supabase/migrations/001_init.sql');
    expect(migration?.absolutePath).toBe(join(root, MIGRATIONS, '001_init.sql'));
    expect(migration?.sql).toBe('CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n');
    expect(migration?.statements.map((s) => s.sql)).toEqual([
      'CREATE TABLE t (id int)',
      'INSERT INTO t VALUES (1)',
    ]);
    expect(migration?.transactional).toBe(true);
  });

  it('accepts an absolute migrations directory outside the project', async () => {
    const elsewhere = await makeProject({ 'db/001_init.sql': 'SELECT 1;' });
    const root = await makeProject({});
    const { migrations } = await discover(root, join(elsewhere, 'db'), join(elsewhere, 'rollbacks'));
    expect(migrations.map((m) => m.version)).toEqual(['001']);
    expect(migrations[0]?.absolutePath).toBe(join(elsewhere, 'db', '001_init.sql'));
  });

  it('rejects two files with the same version and names both files', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/001_a.sql`]: 'SELECT 1;',
      [`${MIGRATIONS}/001_b.sql`]: 'SELECT 2;',
    });
    const error = await rejection(discover(root));
    expect(error.code).toBe('MIGRATION_DUPLICATE_VERSION');
    expect(error.message).toContain('supabase/migrations/001_a.sql');
    expect(error.message).toContain('supabase/migrations/001_b.sql');
    expect(error.hint).toBeTruthy();
  });

  it('names every pair of files with the same version in one error', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/1_a.sql`]: 'SELECT 1;',
      [`${MIGRATIONS}/1_b.sql`]: 'SELECT 2;',
      [`${MIGRATIONS}/2_c.sql`]: 'SELECT 3;',
      [`${MIGRATIONS}/2_d.sql`]: 'SELECT 4;',
    });
    const error = await rejection(discover(root));
    expect(error.code).toBe('MIGRATION_DUPLICATE_VERSION');
    expect(error.message).toContain('2 duplicate versions');
    expect(error.details.files).toEqual([
      'supabase/migrations/1_a.sql',
      'supabase/migrations/1_b.sql',
      'supabase/migrations/2_c.sql',
      'supabase/migrations/2_d.sql',
    ]);
  });

  it('rejects versions that are numerically equal but written differently (1_a.sql and 001_b.sql)', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/1_a.sql`]: 'SELECT 1;',
      [`${MIGRATIONS}/001_b.sql`]: 'SELECT 2;',
      [`${MIGRATIONS}/2_c.sql`]: 'SELECT 3;',
    });
    const error = await rejection(discover(root));
    expect(error.code).toBe('MIGRATION_DUPLICATE_VERSION');
    expect(error.message).toContain('supabase/migrations/1_a.sql');
    expect(error.message).toContain('supabase/migrations/001_b.sql');
  });

  it('warns about .sql files whose name does not match <version>_<name>.sql and skips them', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/001_init.sql`]: 'SELECT 1;',
      [`${MIGRATIONS}/readme.sql`]: 'this is not SQL at all',
      [`${MIGRATIONS}/abc_x.sql`]: 'SELECT 2;',
    });
    const { migrations, warnings } = await discover(root);
    expect(migrations.map((m) => m.path)).toEqual(['supabase/migrations/001_init.sql']);
    expect(warnings.map((w) => w.path).sort()).toEqual([
      'supabase/migrations/abc_x.sql',
      'supabase/migrations/readme.sql',
    ]);
    for (const warning of warnings) expect(warning.message).toMatch(/skipped/);
  });

  it('ignores files that do not end in .sql, and directories, without a warning', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/001_init.sql`]: 'SELECT 1;',
      [`${MIGRATIONS}/notes.md`]: '# notes',
      [`${MIGRATIONS}/002_old.sql.bak`]: 'not sql',
      [`${MIGRATIONS}/.gitkeep`]: '',
      [`${MIGRATIONS}/003_folder.sql/inner.sql`]: 'SELECT 3;',
    });
    const { migrations, warnings } = await discover(root);
    expect(migrations.map((m) => m.version)).toEqual(['001']);
    expect(warnings).toEqual([]);
  });

  it('rejects a file that is not valid UTF-8 and points at the line of the bad bytes', async () => {
    const bad = Buffer.concat([
      Buffer.from("CREATE TABLE t (name text);\n-- café is fine\nINSERT INTO t VALUES ('", 'utf8'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from("');\n", 'utf8'),
    ]);
    const root = await makeProject({ [`${MIGRATIONS}/001_bad.sql`]: bad });
    const [migration] = (await discover(root)).migrations;
    expect(migration?.statements).toEqual([]);
    expect(migration?.invalid).toMatchObject({ code: 'MIGRATION_FILE_INVALID', line: 3 });
    expect(migration?.invalid?.message).toContain('supabase/migrations/001_bad.sql:3:');
    expect(migration?.invalid?.hint).toMatch(/UTF-8/);
  });

  it('collects every file that cannot run, each with file:line, instead of stopping at the first', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/1_ok.sql`]: 'create table a (id int);',
      [`${MIGRATIONS}/2_syntax.sql`]: 'select 1;\ncreate tabel b (id int);',
      [`${MIGRATIONS}/3_rollback.sql`]: 'select 1;\nrollback;',
      [`${MIGRATIONS}/4_ok.sql`]: 'create table c (id int);',
    });
    const { migrations } = await discover(root);
    expect(migrations.map((m) => [m.version, m.invalid?.code])).toEqual([
      ['1', undefined],
      ['2', 'MIGRATION_PARSE_ERROR'],
      ['3', 'MIGRATION_TRANSACTION_CONTROL'],
      ['4', undefined],
    ]);
    expect(migrations[1]?.invalid?.message).toMatch(/^supabase\/migrations\/2_syntax\.sql:2:/);
    expect(migrations[2]?.invalid?.message).toMatch(/^supabase\/migrations\/3_rollback\.sql:2:1:/);
    const error = (() => {
      try {
        assertRunnable(migrations);
      } catch (caught) {
        return caught as SupagateError;
      }
    })();
    expect(error?.message).toContain('2 migration files cannot be run');
    expect(error?.message).toContain('2_syntax.sql:2:');
    expect(error?.message).toContain('3_rollback.sql:2:1');
  });

  it('fails with MIGRATIONS_DIR_MISSING naming the directory when it does not exist', async () => {
    const root = await makeProject({ 'README.md': 'no migrations here' });
    const error = await rejection(discover(root));
    expect(error.code).toBe('MIGRATIONS_DIR_MISSING');
    expect(error.message).toContain('supabase/migrations');
    expect(error.hint).toBeTruthy();

    const custom = await rejection(discover(root, 'db/migrations'));
    expect(custom.message).toContain('db/migrations');
  });

  it('finds no migrations in an empty migrations directory', async () => {
    const root = await makeProject({ [`${MIGRATIONS}/.gitkeep`]: '' });
    expect(await discover(root)).toEqual({ migrations: [], warnings: [] });
  });
});

describe('discoverMigrations: checksums', () => {
  const lf = "CREATE TABLE t (id int);\n\nINSERT INTO t VALUES (1); -- 'é'\n";
  const crlf = lf.replace(/\n/g, '\r\n');
  const bomCrlf = `\uFEFF${crlf}`;

  it('gives LF, CRLF and BOM+CRLF versions of a file the same checksum', () => {
    expect(checksumOf(lf)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksumOf(crlf)).toBe(checksumOf(lf));
    expect(checksumOf(bomCrlf)).toBe(checksumOf(lf));
    expect(checksumOf(lf.replace(/\n/g, '\r'))).toBe(checksumOf(lf));
  });

  it('gives a changed file a different checksum', () => {
    expect(checksumOf(lf.replace('VALUES (1)', 'VALUES (2)'))).not.toBe(checksumOf(lf));
    expect(checksumOf(lf.replace('id int', 'id bigint'))).not.toBe(checksumOf(lf));
  });

  it('normalizes files read from disk, so their checksums and SQL do not depend on line endings', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/1_lf.sql`]: lf,
      [`${MIGRATIONS}/2_crlf.sql`]: crlf,
      [`${MIGRATIONS}/3_bom_crlf.sql`]: Buffer.from(bomCrlf, 'utf8'),
      [`${MIGRATIONS}/4_changed.sql`]: lf.replace('VALUES (1)', 'VALUES (2)'),
    });
    const { migrations } = await discover(root);
    const [one, two, three, four] = migrations;
    expect(two?.checksum).toBe(one?.checksum);
    expect(three?.checksum).toBe(one?.checksum);
    expect(four?.checksum).not.toBe(one?.checksum);
    expect(three?.sql).toBe(lf);
    expect(one?.checksum).toBe(checksumOf(lf));
  });
});

describe('discoverMigrations: rollbacks', () => {
  it('pairs a rollback file with its migration by version', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/001_init.sql`]: 'CREATE TABLE t (id int);',
      [`${MIGRATIONS}/002_add_name.sql`]: 'ALTER TABLE t ADD COLUMN name text;',
      // Paired by version: the name does not have to match.
      [`${ROLLBACKS}/002_drop_name.sql`]: 'ALTER TABLE t DROP COLUMN name;\r\n',
    });
    const { migrations, warnings } = await discover(root);
    expect(warnings).toEqual([]);
    expect(migrations[0]?.rollback).toBeUndefined();
    expect(migrations[1]?.rollback).toMatchObject({
      version: '002',
      name: 'drop_name',
      path: 'supabase/rollbacks/002_drop_name.sql',
      sql: 'ALTER TABLE t DROP COLUMN name;\n',
      checksum: checksumOf('ALTER TABLE t DROP COLUMN name;\n'),
    });
  });

  it('warns about a rollback file without a migration of the same version and ignores it', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/001_init.sql`]: 'CREATE TABLE t (id int);',
      [`${ROLLBACKS}/001_init.sql`]: 'DROP TABLE t;',
      [`${ROLLBACKS}/003_orphan.sql`]: 'SELECT 1;',
    });
    const { migrations, warnings } = await discover(root);
    expect(migrations.map((m) => m.rollback?.path)).toEqual(['supabase/rollbacks/001_init.sql']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.path).toBe('supabase/rollbacks/003_orphan.sql');
    expect(warnings[0]?.message).toContain('003');
  });

  it('does not pair a rollback whose version is written differently (2_x.sql for 002_x.sql); it warns', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/002_x.sql`]: 'SELECT 1;',
      [`${ROLLBACKS}/2_x.sql`]: 'SELECT 2;',
    });
    const { migrations, warnings } = await discover(root);
    // The version is the history key exactly as written in the file name.
    expect(migrations[0]?.rollback).toBeUndefined();
    expect(warnings.map((w) => w.path)).toEqual(['supabase/rollbacks/2_x.sql']);
  });

  it('is fine without a rollbacks directory', async () => {
    const root = await makeProject({ [`${MIGRATIONS}/001_init.sql`]: 'SELECT 1;' });
    const { migrations, warnings } = await discover(root);
    expect(warnings).toEqual([]);
    expect(migrations).toHaveLength(1);
    expect(migrations[0]?.rollback).toBeUndefined();
  });
});

describe('discoverMigrations: transactional', () => {
  it('marks a file with CREATE INDEX CONCURRENTLY as not transactional', async () => {
    const root = await makeProject({
      [`${MIGRATIONS}/001_table.sql`]: 'CREATE TABLE t (id int, email text);',
      [`${MIGRATIONS}/002_index.sql`]: 'CREATE INDEX CONCURRENTLY t_email_idx ON t (email);',
    });
    const { migrations } = await discover(root);
    expect(migrations.map((m) => m.transactional)).toEqual([true, false]);
    expect(migrations[1]?.statements[0]?.nonTransactional).toBe('CREATE INDEX CONCURRENTLY');
    expect(migrations[0]?.statements[0]?.nonTransactional).toBeUndefined();
  });
});
