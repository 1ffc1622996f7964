import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { apply } from '../src/core/commands/apply.js';
import { ADVISORY_LOCK_KEYS } from '../src/core/db/lock.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { fakePgDump } from './harness/fake-tools.js';
import { GATE_NEUTRAL, seedProductionRows, sleepsInProduction } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';
import { startProxy } from './harness/proxy.js';

let db: TestDatabase;
let project: TestProject | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
  await seedProductionRows(db);
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

/** Three migrations; the second sleeps in production (not on the plan's shadow) until production_rows is emptied. */
async function threeMigrations(): Promise<TestProject> {
  project = await createProject(
    migrations({
      '1_a': 'create table public.a (id int);\nalter table public.a enable row level security;',
      '2_b': `create table public.b (id int);\nalter table public.b enable row level security;\n${sleepsInProduction(60)};`,
      '3_c': 'create table public.c (id int);\nalter table public.c enable row level security;',
    }),
  );
  return project;
}

/** The pid of apply's session once it runs the slow statement. */
async function applyBackendSleeping(): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const rows = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'supagate apply'
          AND state = 'active' AND query LIKE '%pg_sleep%'`,
    );
    if (rows[0]) return rows[0].pid;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('apply never ran the slow migration');
}

async function lockIsFree(): Promise<boolean> {
  const [row] = await db.query<{ free: boolean }>(
    `SELECT pg_try_advisory_lock($1, $2) AS free, pg_advisory_unlock($1, $2)`,
    [...ADVISORY_LOCK_KEYS],
  );
  return row?.free ?? false;
}

async function tables(): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

async function history(): Promise<string[]> {
  const rows = await db.query<{ version: string }>(
    'SELECT version FROM supabase_migrations.schema_migrations ORDER BY version',
  );
  return rows.map((row) => row.version);
}

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
  });
  return { code, stdout, stderr };
}

async function rerunCompletes(p: TestProject, url = db.url): Promise<void> {
  await db.query('DELETE FROM public.production_rows');
  const rerun = await apply(p.config(url, GATE_NEUTRAL));
  expect(rerun.status).toBe('applied');
  expect(rerun.applied.map((m) => m.version)).toEqual(['2', '3']);
  expect(await history()).toEqual(['1', '2', '3']);
}

describe('a connection lost during apply', () => {
  it('terminated after the first of three migrations: what was applied, exit 1, no stack, lock free', async () => {
    const p = await threeMigrations();
    const running = cli([
      'apply',
      '--project-dir',
      p.dir,
      '--db-url',
      db.url,
      '--backup',
      'off',
      '--verify',
      'off',
      '--shadow-url',
      inject('shadowUrl'),
      '--no-detect-local-supabase',
    ]);
    const pid = await applyBackendSleeping();
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    const { code, stdout, stderr } = await running;

    expect(code).toBe(1);
    expect(stderr).toBe('');
    expect(stdout).toContain('✓ supabase/migrations/1_a.sql');
    expect(stdout).toMatch(
      /✗ supabase\/migrations\/2_b\.sql:3:\d+ {2}the connection to database "t_\w+" on 127\.0\.0\.1:\d+ was lost while applying supabase\/migrations\/2_b\.sql: terminating connection due to administrator command \[SQLSTATE 57P01\]/,
    );
    expect(stdout).toContain('Not run: 2, 3');
    expect(stdout).toContain(
      'hint: The history, read again on a new connection, holds: applied 1_a.sql; not applied 2_b.sql, 3_c.sql. Each migration commits with its history row, so none is half-applied.',
    );
    expect(stdout).toContain('Failed after applying 1 migration.');
    expect(`${stdout}${stderr}`).not.toMatch(/INTERNAL|bug in supagate|\n\s+at /);
    expect(await lockIsFree()).toBe(true);
    expect(await tables()).toEqual(['a', 'production_rows']);
    expect(await history()).toEqual(['1']);
    await rerunCompletes(p);
  });

  it('the server restarts mid-apply: the history read after it is back says what was applied', async () => {
    const p = await threeMigrations();
    const proxy = await startProxy(db.url);
    try {
      const running = apply(p.config(proxy.url, GATE_NEUTRAL));
      const pid = await applyBackendSleeping();
      // What a restart does: every session ends, and for a while no one can connect.
      const restarted = proxy.restart(2_000);
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      await restarted;
      const result = await running;

      expect(result.status).toBe('failed');
      expect(result.applied.map((m) => m.version)).toEqual(['1']);
      expect(result.notApplied).toEqual(['2', '3']);
      expect(result.failure).toMatchObject({ version: '2', code: 'DB_CONNECTION_LOST' });
      expect(result.failure?.message).toContain('was lost while applying supabase/migrations/2_b.sql');
      expect(result.failure?.hint).toContain('applied 1_a.sql; not applied 2_b.sql, 3_c.sql');
      expect(await lockIsFree()).toBe(true);
      expect(await history()).toEqual(['1']);
      await rerunCompletes(p, proxy.url);
    } finally {
      await proxy.close();
    }
  });
});

describe('a connection lost before any migration ran', () => {
  it('terminated during the plan: DB_CONNECTION_LOST, nothing applied, lock free, the re-run completes', async () => {
    // Sleeps on the plan's shadow (no rows there), not in production.
    project = await createProject(
      migrations({
        '1_a':
          'create table public.a (id int);\nalter table public.a enable row level security;\nselect pg_sleep(3.25 * (1 - (select count(*) from public.production_rows)));',
      }),
    );
    const before = await snapshot(db);
    const running = apply(project.config(db.url, GATE_NEUTRAL)).then(
      () => undefined,
      (error: unknown) => error,
    );
    await shadowSleeping();
    const [session] = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'supagate apply'`,
    );
    await db.query('SELECT pg_terminate_backend($1)', [session?.pid]);
    const error = (await running) as { code?: string; message?: string; hint?: string };

    expect(error?.code).toBe('DB_CONNECTION_LOST');
    expect(error?.message).toMatch(
      /^The (connection to|migration lock on) database "t_\w+" on 127\.0\.0\.1:\d+ was lost before any migration ran/,
    );
    expect(error?.hint).toContain('Nothing was applied');
    expect(await lockIsFree()).toBe(true);
    expect(await snapshot(db)).toEqual(before);
    const rerun = await apply(project.config(db.url, GATE_NEUTRAL));
    expect(rerun.status).toBe('applied');
  });
});

/** Waits until the plan's shadow runs the migration that sleeps there. */
async function shadowSleeping(): Promise<void> {
  const shadow = new pg.Client({ connectionString: inject('shadowUrl') });
  await shadow.connect();
  try {
    for (let i = 0; i < 600; i++) {
      const { rows } = await shadow.query(
        `SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(3.25 *%' AND pid <> pg_backend_pid()`,
      );
      if (rows.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the plan never ran the migration on its shadow');
  } finally {
    await shadow.end();
  }
}

describe('a backup that makes no progress', () => {
  let scratch: string;
  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'supagate-stall-'));
  });
  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  /** The plan's schema-only clone gets the real pg_dump; the backup's dump runs `body`. */
  async function backupStalls(body: string) {
    project = await createProject(
      migrations({
        '1_a': 'create table public.a (id int);\nalter table public.a enable row level security;',
      }),
    );
    const pgDump = await fakePgDump(
      scratch,
      `case "$*" in *--schema-only*) exec pg_dump "$@";; esac\n${body}`,
    );
    const before = await snapshot(db);
    const started = Date.now();
    const error = await rejection(
      apply(
        project.config(db.url, {
          ...GATE_NEUTRAL,
          backup: 'on',
          backupDir: join(scratch, 'backups'),
          pgDumpPath: pgDump,
          stallTimeoutMs: '1500ms',
        }),
      ),
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error.code).toBe('BACKUP_FAILED');
    expect(await readdir(join(scratch, 'backups')).catch(() => [])).toEqual([]);
    expect(await lockIsFree()).toBe(true);
    expect(await snapshot(db)).toEqual(before);
    return error;
  }

  it('a pg_dump that hangs is stopped after the stall timeout: nothing stored, nothing applied, lock free', async () => {
    const error = await backupStalls("printf 'PGDMP a little'\nexec sleep 60");
    expect(error.message).toBe(
      'The backup stalled: no progress for 1.5 s. It was stopped; nothing was stored and nothing was applied',
    );
    expect(error.hint).toContain('--stall-timeout');
    const rerun = await apply((project as TestProject).config(db.url, GATE_NEUTRAL));
    expect(rerun.status).toBe('applied');
  });

  it('a pg_dump waiting on a lock: the stall names the session that blocks it', async () => {
    // Another session asks for an exclusive lock: queued behind the backup's snapshot, it blocks pg_dump.
    const error = await backupStalls(
      `PGAPPNAME=locker psql -c "begin; lock table public.production_rows in access exclusive mode; select pg_sleep(20)" >/dev/null 2>&1 &\nsleep 0.5\nexec pg_dump "$@"`,
    );
    expect(error.message).toMatch(
      /^The backup stalled: no progress for 1\.5 s \(pg_dump waits for a lock, blocked by backend \d+, application "locker"\)\. It was stopped/,
    );
    expect(error.hint).toContain('session holding the lock');
  });
});

/**
 * A store on a tiny tmpfs, full or read-only. Mounting needs root (CAP_SYS_ADMIN), as CI has:
 * without it these tests fail and say so, rather than pass unseen.
 */
describe('a backup store that cannot be written', () => {
  const run = promisify(execFile);
  let mountPoint: string;
  let mounted = false;
  let mountError: string | undefined;
  const needsTmpfs = () =>
    expect(mountError, 'these tests mount a small tmpfs: run them as root (CI does)').toBeUndefined();
  beforeEach(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'supagate-tinyfs-'));
    mountError = await run('mount', ['-t', 'tmpfs', '-o', 'size=32k', 'tmpfs', mountPoint]).then(
      () => undefined,
      (error: Error) => error.message,
    );
    mounted = mountError === undefined;
    project = await createProject(
      migrations({
        '1_a': 'create table public.a (id int);\nalter table public.a enable row level security;',
      }),
    );
    await db.query(
      'create table public.rows as select g as id, md5(g::text) as t from generate_series(1, 5000) g',
    );
  });
  afterEach(async () => {
    if (mounted) await run('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  async function storeFails(backupDir: string) {
    const before = await snapshot(db);
    const error = await rejection(
      apply((project as TestProject).config(db.url, { ...GATE_NEUTRAL, backup: 'on', backupDir })),
    );
    expect(error.code).toBe('BACKUP_STORE_FAILED');
    expect(`${error.message}${error.hint}`).not.toMatch(/INTERNAL|bug in supagate/);
    expect(await lockIsFree()).toBe(true);
    expect(await snapshot(db)).toEqual(before);
    return error;
  }

  it('a full disk while the dump is written: the path, no partial file, nothing applied', async () => {
    needsTmpfs();
    const backupDir = join(mountPoint, 'backups');
    await mkdir(backupDir);
    // Leave one page: the dump of 5,000 rows does not fit.
    await writeFile(join(mountPoint, 'filler'), Buffer.alloc(28 * 1024)).catch(() => {});
    const error = await storeFails(backupDir);
    expect(error.message).toMatch(
      new RegExp(
        `^Could not write the backup file ${backupDir}/[\\w.-]+\\.dump: no space left on the device \\(ENOSPC\\)$`,
      ),
    );
    expect(error.hint).toContain('--backup-dir');
    expect(await readdir(backupDir)).toEqual([]);
  });

  it('a read-only store: the path and why', async () => {
    needsTmpfs();
    await mkdir(join(mountPoint, 'backups'));
    await run('mount', ['-o', 'remount,ro', mountPoint]);
    const error = await storeFails(join(mountPoint, 'backups'));
    expect(error.message).toMatch(
      /^Could not write the backup file .*: the file system is read-only \(EROFS\)$/,
    );
  });
});
