import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { connect, disconnect } from '../src/core/db/connect.js';
import { applyMigration, type ExecutionSettings } from '../src/core/migrations/execute.js';
import { discoverMigrations } from '../src/core/migrations/files.js';
import { withProgress } from '../src/core/progress.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { FAILS_IN_PRODUCTION, GATE_NEUTRAL, seedProductionRows } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

let db: TestDatabase;
let project: TestProject | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

async function projectWith(files: Record<string, string>): Promise<TestProject> {
  project = await createProject(migrations(files));
  return project;
}

function small(i: number): string {
  return `create table public.note_${i} (id bigint primary key, owner uuid default auth.uid());
create index note_${i}_owner on public.note_${i} (owner);
alter table public.note_${i} enable row level security;
create policy "own ${i}" on public.note_${i} for select to authenticated using (owner = auth.uid());
create function public.note_${i}_count() returns bigint language sql as $$ select count(*) from public.note_${i} $$;
`;
}

const SETTINGS: ExecutionSettings = {
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 60_000,
  lockRetries: 0,
  retryDelayMs: 0,
};

type Apply = Awaited<ReturnType<typeof apply>>;

/**
 * apply, counting the queries its own session sends while each migration runs (each
 * client.query is one round trip: a simple query, or an extended one with its Sync).
 */
async function applyCounting(
  config: Parameters<typeof apply>[0],
): Promise<{ result: Apply; trips: number[] }> {
  const trips: number[] = [];
  let current: number | undefined;
  const original = pg.Client.prototype.query;
  const counting = function (this: pg.Client, ...args: unknown[]) {
    const application = (this as unknown as { connectionParameters?: { application_name?: string } })
      .connectionParameters?.application_name;
    if (current !== undefined && application === 'supagate apply') trips[current] = (trips[current] ?? 0) + 1;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  pg.Client.prototype.query = counting as typeof original;
  try {
    const result = await withProgress(
      (event) => {
        if (event.type === 'migration-start') {
          current = event.index - 1;
          trips[current] = 0;
        }
        if (event.type === 'migration-end') current = undefined;
      },
      () => apply(config),
    );
    return { result, trips };
  } finally {
    pg.Client.prototype.query = original;
  }
}

async function historyAndAudit(version: string): Promise<{ history: number; audit: number }> {
  const [row] = await db.query<{ history: number; audit: number }>(
    `SELECT (SELECT count(*)::int FROM supabase_migrations.schema_migrations WHERE version = $1) AS history,
            (SELECT count(*)::int FROM supabase_migrations.supagate_audit WHERE version = $1) AS audit`,
    [version],
  );
  return row ?? { history: -1, audit: -1 };
}

describe('apply round trips', () => {
  it('applies a small migration in one round trip once the history tables are known', async () => {
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`${i + 1}_note`, small(i + 1)]));
    const p = await projectWith(files);
    const { result, trips } = await applyCounting(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('applied');
    // The first migration creates the history tables (checked, created, in its transaction);
    // the second finds them; from then on: resets, 5 statements, history + audit, COMMIT in one.
    expect(trips.slice(2)).toEqual([1, 1, 1, 1]);
    expect(trips[1]).toBeLessThanOrEqual(3);
    const [audit] = await db.query<{ n: number; durations: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE duration_ms >= 0)::int AS durations
         FROM supabase_migrations.supagate_audit WHERE outcome = 'applied' AND applied_by = 'tester'`,
    );
    expect(audit).toEqual({ n: 6, durations: 6 });
  });

  it('--atomic all sends each migration in one round trip too', async () => {
    const p = await projectWith({ '1_a': small(1), '2_b': small(2), '3_c': small(3) });
    await db.query('create schema supabase_migrations');
    await db.query(
      'create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text)',
    );
    const { result } = await applyCounting(p.config(db.url, { ...GATE_NEUTRAL, atomic: 'all' }));
    expect(result.status).toBe('applied');
    expect(result.applied.map((m) => m.mode)).toEqual(['batch', 'batch', 'batch']);
    expect((await historyAndAudit('3')).history).toBe(1);
  });

  it('a statement failing in the middle of a file leaves no history or audit row, located at its line', async () => {
    await seedProductionRows(db);
    const p = await projectWith({
      '1_ok': small(1),
      // Division by zero in production only: PostgreSQL gives no position, the completed statements locate it.
      '2_bad': `create table public.first (id int);\n\n  ${FAILS_IN_PRODUCTION};\ncreate table public.third (id int);\n`,
      '3_later': 'create table public.later (id int);',
    });
    const { result } = await applyCounting(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({
      version: '2',
      path: 'supabase/migrations/2_bad.sql',
      statementIndex: 1,
      statement: FAILS_IN_PRODUCTION,
      line: 3,
      column: 3,
      sqlstate: '22012',
      committedStatements: 0,
    });
    expect(result.notApplied).toEqual(['2', '3']);
    expect(await historyAndAudit('1')).toEqual({ history: 1, audit: 1 });
    expect(await historyAndAudit('2')).toEqual({ history: 0, audit: 0 });
    const tables = await db.query(`SELECT 1 FROM pg_tables WHERE tablename IN ('first', 'third', 'later')`);
    expect(tables).toEqual([]);
  });

  it('locates an error by its position in the query, in the file, when PostgreSQL gives one', async () => {
    const before = await snapshot(db);
    const p = await projectWith({
      '1_ok': small(1),
      // PostgreSQL counts the position in characters: the emoji is two UTF-16 units.
      '2_bad':
        "create table public.first (id int);\nselect '😀 before';\ninsert into public.missing values (1);\n",
    });
    // The plan runs the files on the shadow with the same code as apply.
    const error = await rejection(apply(p.config(db.url, GATE_NEUTRAL)));
    expect(error.code).toBe('PLAN_FAILED');
    expect(error.message).toContain('supabase/migrations/2_bad.sql:3:13 (statement 3)');
    expect(await snapshot(db)).toEqual(before);
  });

  it('a SET search_path, set_config or SET ROLE of one migration does not reach the next', async () => {
    await db.query('create schema other');
    const files = {
      '1_set': 'set search_path = other;\ncreate table in_other (id int);\nset role anon;\n',
      '2_plain': 'create table in_default_2 (id int);',
      '3_config': `select set_config('search_path', 'other', false);\nset statement_timeout = 1;`,
      '4_plain': 'create table in_default_4 (id int);\nselect pg_sleep(0.05);',
    };
    // Directly: the plan's shadow may not SET ROLE anon.
    const p = await projectWith(files);
    const { migrations: found } = await discoverMigrations({
      projectDir: p.dir,
      migrationsDir: 'supabase/migrations',
      rollbacksDir: 'supabase/rollbacks',
    });
    const connection = await connect(db.url, { applicationName: 'supagate apply' });
    try {
      for (const migration of found) {
        await applyMigration(connection.client, migration, SETTINGS, {
          actor: 'tester',
          runId: null,
          backupId: null,
        });
      }
      const { rows: session } = await connection.client.query(
        'SELECT current_user AS role, current_setting($1) AS path, current_setting($2) AS timeout',
        ['search_path', 'statement_timeout'],
      );
      expect(session[0]).toMatchObject({ path: '"$user", public', timeout: '1min' });
    } finally {
      await disconnect(connection);
    }
    const rows = await db.query<{ name: string; owner: string }>(
      `SELECT schemaname || '.' || tablename AS name, tableowner AS owner FROM pg_tables WHERE tablename LIKE 'in_%' ORDER BY 1`,
    );
    const [{ user } = { user: '' }] = await db.query<{ user: string }>('SELECT current_user AS user');
    expect(rows).toEqual([
      { name: 'other.in_other', owner: user },
      { name: 'public.in_default_2', owner: user },
      { name: 'public.in_default_4', owner: user },
    ]);
    // The history row of a migration that ended as another role is written as apply's own.
    expect(await historyAndAudit('1')).toEqual({ history: 1, audit: 1 });
  });

  it('runs a file that changes standard_conforming_strings statement by statement, and resets it', async () => {
    await db.query('create table public.strings (id int, value text)');
    const p = await projectWith({
      '1_escapes': String.raw`set standard_conforming_strings = off;
insert into public.strings values (1, 'a\\b');`,
      '2_standard': String.raw`insert into public.strings values (2, 'c\\d');`,
    });
    const { result, trips } = await applyCounting(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('applied');
    const rows = await db.query('SELECT id, value FROM public.strings ORDER BY id');
    expect(rows).toEqual([
      { id: 1, value: String.raw`a\b` },
      { id: 2, value: String.raw`c\\d` },
    ]);
    expect(trips[0]).toBeGreaterThan(trips[1] ?? 0);
  });

  it('a non-transactional file runs its CONCURRENTLY statement on its own, the rest batched', async () => {
    const p = await projectWith({
      '1_first': small(1),
      '2_second': small(2),
      '3_concurrently':
        'create table public.big (id int);\ncreate index concurrently big_id on public.big (id);\ncreate table public.after_big (id int);\n',
    });
    const { result, trips } = await applyCounting(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('applied');
    expect(result.applied[2]?.mode).toBe('non-atomic');
    // Resets; the table in its transaction; the index alone; the last table, history and audit.
    expect(trips[2]).toBe(4);
    expect(await historyAndAudit('3')).toEqual({ history: 1, audit: 1 });
    const [index] = await db.query(
      `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'public.big_id'::regclass`,
    );
    expect(index).toEqual({ valid: true });
  });
});
