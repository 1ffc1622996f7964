import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { ADVISORY_LOCK_KEYS } from '../src/core/db/lock.js';
import { type CliProcess, childProcesses, isRunning, spawnCli } from './harness/cli-process.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { fakePgDump } from './harness/fake-tools.js';
import { GATE_NEUTRAL, seedProductionRows, sleepsInProduction } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/** The plan's schema-only clone gets the real pg_dump; the backup's dump writes a little, then hangs. */
const HANGS_ON_BACKUP = `case "$*" in *--schema-only*) exec pg_dump "$@";; esac
printf 'PGDMP partial dump'
exec sleep 60`;

let db: TestDatabase;
let project: TestProject;
let scratch: string;

beforeEach(async () => {
  db = await createTestDatabase();
  await seedProductionRows(db);
  scratch = await mkdtemp(join(tmpdir(), 'supagate-interrupt-'));
  project = await createProject(
    migrations({
      '1_a': 'create table public.a (id int);\nalter table public.a enable row level security;',
      '2_b': `create table public.b (id int);\nalter table public.b enable row level security;\n${sleepsInProduction(60)};`,
      '3_c': 'create table public.c (id int);\nalter table public.c enable row level security;',
    }),
  );
});
afterEach(async () => {
  await project.cleanup();
  await rm(scratch, { recursive: true, force: true });
  await db.drop();
});

function applyArgs(...extra: string[]): string[] {
  return [
    'apply',
    '--project-dir',
    project.dir,
    '--db-url',
    db.url,
    '--verify',
    'off',
    '--shadow-url',
    inject('shadowUrl'),
    '--no-detect-local-supabase',
    ...extra,
  ];
}

async function applySleeping(cli: CliProcess): Promise<void> {
  for (let i = 0; i < 1200 && cli.child.exitCode === null; i++) {
    const rows = await db.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'supagate apply'
          AND state = 'active' AND query LIKE '%pg_sleep%'`,
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`apply never ran the slow migration:\n${cli.output().stdout}${cli.output().stderr}`);
}

async function lockIsFree(): Promise<boolean> {
  const [row] = await db.query<{ free: boolean }>(
    'SELECT pg_try_advisory_lock($1, $2) AS free, pg_advisory_unlock($1, $2)',
    [...ADVISORY_LOCK_KEYS],
  );
  return row?.free ?? false;
}

async function history(): Promise<string[]> {
  const [exists] = await db.query<{ ok: boolean }>(
    `SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL AS ok`,
  );
  if (!exists?.ok) return [];
  const rows = await db.query<{ version: string }>(
    'SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1',
  );
  return rows.map((row) => row.version);
}

async function rerunCompletes(expected: string[]): Promise<void> {
  await db.query('DELETE FROM public.production_rows');
  const rerun = await apply(project.config(db.url, GATE_NEUTRAL));
  expect(rerun.status).toBe('applied');
  expect(rerun.applied.map((m) => m.version)).toEqual(expected);
}

/**
 * The plan's copy of production's schema that the stand-in pg_dump left half-written (`before`:
 * the temporary folder's names before the run started, so that another run's is not taken).
 */
async function partialCopy(before: string[]): Promise<string> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith('supagate-clone-') || before.includes(name)) continue;
    const file = join(tmpdir(), name, 'schema.dump');
    if ((await readFile(file, 'utf8').catch(() => '')) === 'PGDMP partial') return join(tmpdir(), name);
  }
  throw new Error('no partial copy of the schema found');
}

describe('interrupts', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during a migration: cancelled on the server, lock free, says what was applied, exit %i', async (signal, exit) => {
    const cli = spawnCli(applyArgs('--backup', 'off'));
    await applySleeping(cli);
    cli.child.kill(signal);
    const { code } = await cli.exited;
    const { stdout, stderr } = cli.output();

    expect(code).toBe(exit);
    expect(stderr).toContain(`Interrupted (${signal}): stopping and cleaning up…`);
    expect(stderr).toMatch(
      /✓ cancelled the statement apply was running on the server \(backend \d+\); its transaction was rolled back/,
    );
    expect(stderr).toMatch(/✓ released the migration lock on database "t_\w+" on 127\.0\.0\.1:\d+/);
    expect(stderr).toContain('✓ applied before the interrupt (in the history): 1_a.sql');
    expect(stderr).toContain('✓ not applied: 2_b.sql, 3_c.sql; run apply again to continue');
    expect(stderr).toContain(`Stopped by ${signal}; exit code ${exit}.`);
    expect(`${stdout}${stderr}`).not.toMatch(/INTERNAL|\n\s+at /);
    expect(await lockIsFree()).toBe(true);
    expect(await history()).toEqual(['1']);
    expect(await db.query(`SELECT 1 FROM pg_tables WHERE tablename = 'b'`)).toEqual([]);
    await rerunCompletes(['2', '3']);
  });

  it('SIGTERM during the backup: pg_dump stopped, no partial file, nothing applied, exit 143', async () => {
    const backupDir = join(scratch, 'backups');
    const pgDump = await fakePgDump(scratch, HANGS_ON_BACKUP);
    const before = await snapshot(db);
    const cli = spawnCli(applyArgs('--backup-dir', backupDir, '--pg-dump', pgDump));
    for (
      let i = 0;
      i < 1200 && !(await readdir(backupDir).catch(() => [])).some((f) => f.endsWith('.tmp'));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await readdir(backupDir)).some((f) => f.endsWith('.tmp'))).toBe(true);
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    const { stderr } = cli.output();

    expect(code).toBe(143);
    expect(stderr).toContain('Interrupted (SIGTERM)');
    expect(stderr).toContain('✓ stopped pg_dump; nothing of the backup stays in the directory store');
    expect(stderr).toContain('✓ apply was running no statement on the server');
    expect(stderr).toMatch(/✓ released the migration lock on database "t_\w+" on 127\.0\.0\.1:\d+\n/);
    expect(stderr).toContain('✓ not applied: 1_a.sql, 2_b.sql, 3_c.sql');
    expect(stderr).toContain('Stopped by SIGTERM; exit code 143.');
    expect(await readdir(backupDir)).toEqual([]);
    expect(await lockIsFree()).toBe(true);
    expect(await snapshot(db)).toEqual(before);
    await rerunCompletes(['1', '2', '3']);
  });

  it('SIGINT during plan: the embedded shadow server is stopped and its folder deleted', async () => {
    await project.write('supabase/migrations/4_slow_everywhere.sql', 'select pg_sleep(60);');
    // Without the shadow cache: keeping a baseline restarts the server (another pid), below.
    const cli = spawnCli([
      'plan',
      '--project-dir',
      project.dir,
      '--db-url',
      db.url,
      '--no-detect-local-supabase',
      '--no-shadow-cache',
    ]);
    let server: { pid: number; args: string } | undefined;
    for (let i = 0; i < 1200 && !server; i++) {
      server = (await childProcesses(cli.child.pid as number)).find((p) => /\/postgres -D /.test(p.args));
      if (!server) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(server).toBeDefined();
    const folder = /-D (\S*supagate-pg-[^/\s]+)\/data/.exec(server?.args ?? '')?.[1] as string;
    expect(existsSync(folder)).toBe(true);
    // The shadow runs the slow migration: a backend of the shadow database stays in SELECT.
    const selecting = async () =>
      (await childProcesses(server?.pid as number))
        .filter((p) => /supagate_shadow_\w+ .*SELECT/.test(p.args))
        .map((p) => p.pid);
    for (let i = 0; i < 200; i++) {
      const first = await selecting();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const now = await selecting();
      if (first.some((pid) => now.includes(pid))) break;
    }
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    const { stderr } = cli.output();

    expect(code).toBe(130);
    expect(stderr).toContain('✓ stopped the embedded shadow server and deleted its folder');
    expect(stderr).toContain('Stopped by SIGINT; exit code 130.');
    expect(isRunning(server?.pid as number)).toBe(false);
    expect(existsSync(folder)).toBe(false);
    expect(`${cli.output().stdout}${stderr}`).not.toMatch(/INTERNAL|\n\s+at /);
  });

  it('SIGINT during plan with the shadow cache: the server stopped, the kept baseline whole, nothing half-kept', async () => {
    await project.write('supabase/migrations/4_slow_everywhere.sql', 'select pg_sleep(60);');
    const cache = join(scratch, 'cache');
    const cli = spawnCli(
      ['plan', '--project-dir', project.dir, '--db-url', db.url, '--no-detect-local-supabase'],
      { SUPAGATE_CACHE_DIR: cache },
    );
    // The baseline is kept before the migrations run (the server restarts then): wait for the
    // slow migration on whichever server runs now, a backend that stays in SELECT.
    let server: { pid: number; args: string } | undefined;
    const selecting = async () => {
      server = (await childProcesses(cli.child.pid as number)).find((p) => /\/postgres -D /.test(p.args));
      if (!server) return [];
      return (await childProcesses(server.pid))
        .filter((p) => /supagate_shadow_\w+ .*SELECT/.test(p.args))
        .map((p) => p.pid);
    };
    for (let i = 0; i < 300; i++) {
      const first = await selecting();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const now = await selecting();
      if (first.some((pid) => now.includes(pid))) break;
    }
    expect(server).toBeDefined();
    const folder = /-D (\S*supagate-pg-[^/\s]+)\/data/.exec(server?.args ?? '')?.[1] as string;
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;

    expect(code).toBe(130);
    expect(isRunning(server?.pid as number)).toBe(false);
    expect(existsSync(folder)).toBe(false);
    const kept = await readdir(join(cache, 'shadow-baselines'));
    expect(kept.filter((name) => name.startsWith('.staging'))).toEqual([]);
    const baselines = kept.filter((name) => !name.startsWith('.'));
    expect(baselines).toHaveLength(1);
    expect((await readdir(join(cache, 'shadow-baselines', baselines[0] as string))).sort()).toEqual([
      'baseline.json',
      'data',
      'model.json',
    ]);
  });

  it("SIGINT while the plan copies production's schema: pg_dump stopped, the copy deleted, the server stopped", async () => {
    const pgDump = await fakePgDump(
      scratch,
      `for a in "$@"; do case "$a" in --file=*) f="\${a#--file=}";; esac; done\nprintf 'PGDMP partial' > "$f"\nexec sleep 60`,
    );
    const earlier = await readdir(tmpdir());
    const cli = spawnCli([
      'plan',
      '--project-dir',
      project.dir,
      '--db-url',
      db.url,
      '--no-detect-local-supabase',
      '--pg-dump',
      pgDump,
    ]);
    // The stand-in pg_dump has written part of the copy and sleeps, while the embedded shadow
    // server starts (at once, or still starting: both are stopped).
    let dump: { pid: number; args: string } | undefined;
    let server: { pid: number; args: string } | undefined;
    for (let i = 0; i < 600 && !(dump && server) && cli.child.exitCode === null; i++) {
      const children = await childProcesses(cli.child.pid as number);
      dump ??= children.find((p) => p.args === 'sleep 60');
      server ??= children.find((p) => / -D \S+/.test(p.args) && /postgres/.test(p.args));
      if (!(dump && server)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const dataDirectory = / -D (\S+)/.exec(server?.args ?? '')?.[1] as string;
    expect(existsSync(dataDirectory)).toBe(true);
    const copy = await partialCopy(earlier);
    expect(existsSync(copy)).toBe(true);
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    const { stderr } = cli.output();

    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/✓ stopped pg_dump-\w+/);
    expect(stderr).toContain(`✓ deleted the copy of production's schema (${copy})`);
    expect(stderr).toMatch(
      /✓ (stopped the embedded shadow server and deleted its folder|stopped the shadow while it was being created)/,
    );
    expect(existsSync(copy)).toBe(false);
    expect(isRunning(dump?.pid as number)).toBe(false);
    expect(isRunning(server?.pid as number)).toBe(false);
    expect(existsSync(dataDirectory)).toBe(false);
  });

  it('SIGINT during plan on a shadow server: the shadow database is dropped', async () => {
    await project.write('supabase/migrations/4_slow_everywhere.sql', 'select pg_sleep(61);');
    const cli = spawnCli([
      'plan',
      '--project-dir',
      project.dir,
      '--db-url',
      db.url,
      '--shadow-url',
      inject('shadowUrl'),
      '--no-detect-local-supabase',
    ]);
    const shadow = new pg.Client({ connectionString: inject('shadowUrl') });
    await shadow.connect();
    try {
      let database: string | undefined;
      for (let i = 0; i < 1200 && !database && cli.child.exitCode === null; i++) {
        const { rows } = await shadow.query<{ datname: string }>(
          // The migration's statements go in one query with supagate's own (BEGIN, resets…).
          `SELECT datname FROM pg_stat_activity
            WHERE state = 'active' AND query LIKE '%select pg_sleep(61)%' AND pid <> pg_backend_pid()`,
        );
        database = rows[0]?.datname;
        if (!database) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(database).toMatch(/^supagate_shadow_/);
      cli.child.kill('SIGINT');
      const { code } = await cli.exited;
      const { stderr } = cli.output();

      expect(code).toBe(130);
      expect(stderr).toContain('✓ dropped the shadow database');
      const { rows } = await shadow.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      expect(rows).toEqual([]);
    } finally {
      await shadow.end();
    }
  });
});
