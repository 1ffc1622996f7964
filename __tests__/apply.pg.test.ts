import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { status } from '../src/core/commands/status.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { FAILS_IN_PRODUCTION, GATE_NEUTRAL, seedProductionRows, sleepsInProduction } from './harness/gate.js';
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

async function tables(): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

async function waitForLockWaiter(client: pg.Client): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await client.query(
      `SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'public.busy'::regclass`,
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('apply never waited for the lock on public.busy');
}

describe('apply', () => {
  it('applies pending migrations in numeric order and records them as the Supabase CLI does', async () => {
    const p = await projectWith({
      '10_second': 'create table public.b (id int);\n-- trailing note\n',
      '2_first': '-- the first\ncreate table public.a (id int);\ninsert into public.a values (1);',
    });
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('applied');
    expect(result.applied.map((m) => m.version)).toEqual(['2', '10']);
    expect(await tables()).toEqual(['a', 'b']);

    const history = await db.query(
      'SELECT version, name, statements FROM supabase_migrations.schema_migrations ORDER BY version::bigint',
    );
    expect(history).toEqual([
      {
        version: '2',
        name: 'first',
        statements: ['-- the first\ncreate table public.a (id int)', 'insert into public.a values (1)'],
      },
      { version: '10', name: 'second', statements: ['create table public.b (id int)', '-- trailing note'] },
    ]);
    // The history table is exactly the CLI's: version text primary key, statements text[], name text.
    const columns = await db.query(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
         FROM pg_attribute a WHERE a.attrelid = 'supabase_migrations.schema_migrations'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
    );
    expect(columns).toEqual([
      { name: 'version', type: 'text', not_null: true },
      { name: 'statements', type: 'text[]', not_null: false },
      { name: 'name', type: 'text', not_null: false },
    ]);
    const [pk] = await db.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'supabase_migrations.schema_migrations'::regclass AND contype = 'p'`,
    );
    expect(pk?.def).toBe('PRIMARY KEY (version)');

    const audit = await db.query(
      `SELECT version, outcome, transaction_mode, applied_by, run_id, length(checksum) AS checksum_length FROM supabase_migrations.supagate_audit ORDER BY id`,
    );
    expect(audit).toEqual([
      {
        version: '2',
        outcome: 'applied',
        transaction_mode: 'transaction',
        applied_by: 'tester',
        run_id: 'run-1',
        checksum_length: 64,
      },
      {
        version: '10',
        outcome: 'applied',
        transaction_mode: 'transaction',
        applied_by: 'tester',
        run_id: 'run-1',
        checksum_length: 64,
      },
    ]);

    const again = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(again.status).toBe('up-to-date');
  });

  it('stops at a failing migration: earlier ones applied, the failing and later ones untouched, error located', async () => {
    const p = await projectWith({
      '1_one': 'create table public.one (id int);',
      '2_two': 'create table public.two (id int);',
      '3_three': `create table public.three (id int);\ninsert into public.three values (1);\n\n${FAILS_IN_PRODUCTION};`,
      '4_four': 'create table public.four (id int);',
      '5_five': 'create table public.five (id int);',
    });
    await seedProductionRows(db);
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('failed');
    expect(result.applied.map((m) => m.version)).toEqual(['1', '2']);
    expect(result.notApplied).toEqual(['3', '4', '5']);
    expect(result.failure).toMatchObject({
      path: 'supabase/migrations/3_three.sql',
      statementIndex: 2,
      line: 4,
      column: 1,
      sqlstate: '22012',
      committedStatements: 0,
    });
    expect(result.failure?.message).toContain('division by zero');
    expect(await tables()).toEqual(['one', 'production_rows', 'two']);
    const history = await db.query<{ version: string }>(
      'SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1',
    );
    expect(history.map((row) => row.version)).toEqual(['1', '2']);
  });

  it('leaves a database with no history exactly as it was when the first migration fails', async () => {
    const p = await projectWith({
      '1_bad': `create table public.x (id int);\n${FAILS_IN_PRODUCTION};`,
    });
    await seedProductionRows(db);
    const before = await snapshot(db);
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({ line: 2, column: 1, sqlstate: '22012' });
    expect(await snapshot(db)).toEqual(before);
  });

  it('runs two concurrent applies so that each migration is applied exactly once', async () => {
    const files: Record<string, string> = { '0_counter': 'create table public.runs (version text);' };
    for (let i = 1; i <= 6; i++)
      files[`${i}_m${i}`] = `insert into public.runs values ('${i}'); select pg_sleep(0.05);`;
    const p = await projectWith(files);
    const [first, second] = await Promise.all([
      apply(p.config(db.url, GATE_NEUTRAL)),
      apply(p.config(db.url, GATE_NEUTRAL)),
    ]);
    const applied = [...first.applied, ...second.applied].map((m) => m.version).sort();
    expect(applied).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect([first.status, second.status].sort()).toEqual(['applied', 'up-to-date']);
    const runs = await db.query<{ version: string; n: string }>(
      'SELECT version, count(*)::text AS n FROM public.runs GROUP BY version ORDER BY version',
    );
    expect(runs.every((row) => row.n === '1')).toBe(true);
    expect(runs).toHaveLength(6);
  });

  it('fails clearly when another run holds the lock longer than --lock-wait, changing nothing', async () => {
    const p = await projectWith({ '1_a': 'create table public.a (id int);' });
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [0x73757061, 0x67617465]);
      const before = await snapshot(db);
      const error = await rejection(apply(p.config(db.url, { ...GATE_NEUTRAL, lockWaitMs: 300 })));
      expect(error.code).toBe('LOCK_TIMEOUT');
      expect(error.message).toMatch(/holds the supagate lock.*pid \d+/);
      expect(error.hint).toContain('--lock-wait');
      expect(await snapshot(db)).toEqual(before);
    } finally {
      await holder.end();
    }
  });

  it('applies CREATE INDEX CONCURRENTLY outside a transaction and reports the migration as not atomic', async () => {
    const p = await projectWith({
      '1_table': 'create table public.t (id int, name text);',
      '2_index': 'create index concurrently t_name_idx on public.t (name);',
      '3_mixed':
        'alter table public.t add column note text;\ncreate index concurrently t_note_idx on public.t (note);\ncomment on column public.t.note is $$n$$;',
    });
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('applied');
    expect(result.applied.map((m) => m.mode)).toEqual(['transaction', 'non-atomic', 'non-atomic']);
    const indexes = await db.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename = 't' ORDER BY 1`,
    );
    expect(indexes.map((row) => row.indexname)).toEqual(['t_name_idx', 't_note_idx']);
    const valid = await db.query<{ ok: boolean }>(
      `SELECT bool_and(indisvalid) AS ok FROM pg_index WHERE indrelid = 'public.t'::regclass`,
    );
    expect(valid[0]?.ok).toBe(true);
  });

  it('reports the statements a failing non-atomic migration left applied', async () => {
    const p = await projectWith({
      '1_t': 'create table public.t (id int);',
      '2_partial': `alter table public.t add column a int;\ncreate index concurrently t_a_idx on public.t (a);\n${FAILS_IN_PRODUCTION};`,
    });
    await seedProductionRows(db);
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({
      version: '2',
      mode: 'non-atomic',
      committedStatements: 2,
      line: 3,
      sqlstate: '22012',
    });
    const history = await db.query<{ version: string }>(
      'SELECT version FROM supabase_migrations.schema_migrations',
    );
    expect(history.map((row) => row.version)).toEqual(['1']);
  });

  it('refuses --atomic all when a migration cannot run in a transaction, naming the statement', async () => {
    const p = await projectWith({
      '1_t': 'create table public.t (id int);',
      '2_idx': '\n\ncreate index concurrently t_idx on public.t (id);',
    });
    const before = await snapshot(db);
    const error = await rejection(apply(p.config(db.url, { ...GATE_NEUTRAL, atomic: 'all' })));
    expect(error.code).toBe('ATOMIC_ALL_REFUSED');
    expect(error.message).toContain('supabase/migrations/2_idx.sql:3:1');
    expect(error.message).toContain('CREATE INDEX CONCURRENTLY');
    expect(await snapshot(db)).toEqual(before);
    const dry = await rejection(
      apply(p.config(db.url, { ...GATE_NEUTRAL, atomic: 'all' }), { dryRun: true }),
    );
    expect(dry.code).toBe('ATOMIC_ALL_REFUSED');
  });

  it('--atomic all applies everything in one transaction, or nothing', async () => {
    const p = await projectWith({
      '1_a': 'create table public.a (id int);',
      '2_b': 'create table public.b (id int);',
      '3_c': `create table public.c (id int);\n${FAILS_IN_PRODUCTION};`,
    });
    await seedProductionRows(db);
    const before = await snapshot(db);
    const failed = await apply(p.config(db.url, { ...GATE_NEUTRAL, atomic: 'all' }));
    expect(failed.status).toBe('failed');
    expect(failed.applied).toEqual([]);
    expect(failed.failure).toMatchObject({ version: '3', mode: 'batch', line: 2, sqlstate: '22012' });
    expect(await snapshot(db)).toEqual(before);

    await p.write('supabase/migrations/3_c.sql', 'create table public.c (id int);');
    const ok = await apply(p.config(db.url, { ...GATE_NEUTRAL, atomic: 'all' }));
    expect(ok.applied.map((m) => [m.version, m.mode])).toEqual([
      ['1', 'batch'],
      ['2', 'batch'],
      ['3', 'batch'],
    ]);
    expect(await tables()).toEqual(['a', 'b', 'c', 'production_rows']);
  });

  it('resets session settings between migrations', async () => {
    await db.query('create schema other');
    const p = await projectWith({
      '1_set': `set search_path = other;\ncreate table in_other (id int);`,
      '2_plain': 'create table in_default (id int);',
    });
    await apply(p.config(db.url, GATE_NEUTRAL));
    const rows = await db.query<{ name: string }>(
      `SELECT schemaname || '.' || tablename AS name FROM pg_tables WHERE tablename LIKE 'in_%' ORDER BY 1`,
    );
    expect(rows.map((row) => row.name)).toEqual(['other.in_other', 'public.in_default']);
  });

  it('retries a migration that hit lock_timeout and succeeds once the lock is free', async () => {
    await db.query('create table public.busy (id int)');
    const p = await projectWith({ '1_alter': 'alter table public.busy add column note text;' });
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE public.busy IN ACCESS SHARE MODE');
      const applying = apply(p.config(db.url, { ...GATE_NEUTRAL, lockTimeoutMs: 100, lockRetries: 5 }), {
        retryDelayMs: 100,
      });
      // Once the migration waits for the lock (after the plan), keep it past one lock_timeout.
      await waitForLockWaiter(blocker);
      await new Promise((resolve) => setTimeout(resolve, 250));
      await blocker.query('COMMIT');
      const result = await applying;
      expect(result.status).toBe('applied');
      expect(result.applied[0]?.attempts).toBeGreaterThan(1);
    } finally {
      await blocker.end();
    }
  });

  it('gives up after the lock retries with a located error and nothing applied', async () => {
    await db.query('create table public.busy (id int)');
    const p = await projectWith({ '1_alter': '\nalter table public.busy add column note text;' });
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE public.busy IN ACCESS SHARE MODE');
      const before = await snapshot(db);
      const result = await apply(p.config(db.url, { ...GATE_NEUTRAL, lockTimeoutMs: 50, lockRetries: 2 }), {
        retryDelayMs: 10,
      });
      expect(result.status).toBe('failed');
      expect(result.failure).toMatchObject({
        sqlstate: '55P03',
        line: 2,
        path: 'supabase/migrations/1_alter.sql',
      });
      await blocker.query('COMMIT');
      expect(await snapshot(db)).toEqual(before);
    } finally {
      await blocker.end();
    }
  });

  it('stops a statement that exceeds statement_timeout', async () => {
    const p = await projectWith({ '1_slow': `${sleepsInProduction(5)};` });
    await seedProductionRows(db);
    const result = await apply(p.config(db.url, { ...GATE_NEUTRAL, statementTimeoutMs: 100 }));
    expect(result.failure).toMatchObject({ sqlstate: '57014' });
  });

  it('tells PostgREST to reload its schema cache after applying', async () => {
    const p = await projectWith({ '1_a': 'create table public.a (id int);' });
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      const notified = new Promise<pg.Notification>((resolve) => listener.on('notification', resolve));
      await listener.query('LISTEN pgrst');
      const result = await apply(p.config(db.url, GATE_NEUTRAL));
      expect(result.notifiedPostgrest).toBe(true);
      const notification = await notified;
      expect(notification.payload).toBe('reload schema');
    } finally {
      await listener.end();
    }
  });

  it('strips a BEGIN/COMMIT wrapper and still applies the file atomically with its history row', async () => {
    const p = await projectWith({ '1_wrapped': 'begin;\ncreate table public.w (id int);\ncommit;\n' });
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('applied');
    expect(result.plan[0]?.strippedTransactionWrapper).toBe(true);
    const [row] = await db.query<{ statements: string[] }>(
      'SELECT statements FROM supabase_migrations.schema_migrations',
    );
    expect(row?.statements).toEqual(['begin', 'create table public.w (id int)', 'commit']);
  });

  it('rejects a file that ends the transaction half-way, before anything runs', async () => {
    const p = await projectWith({
      '1_a': 'create table public.a (id int);\ncommit;\ncreate table public.b (id int);',
    });
    const before = await snapshot(db);
    const error = await rejection(apply(p.config(db.url, GATE_NEUTRAL)));
    expect(error.code).toBe('MIGRATION_TRANSACTION_CONTROL');
    expect(error.message).toContain('supabase/migrations/1_a.sql:2:1');
    expect(await snapshot(db)).toEqual(before);
  });

  it('records an empty pending migration file as applied, as the Supabase CLI does', async () => {
    const p = await projectWith({ '1_a': 'create table public.a (id int);', '2_empty': '-- todo\n' });
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.applied.map((m) => [m.version, m.statementCount])).toEqual([
      ['1', 1],
      ['2', 0],
    ]);
  });
});

describe('dry run', () => {
  it('lists exactly what would run, in order, with each migration’s transaction mode, and changes nothing', async () => {
    const p = await projectWith({
      '1_a': 'create table public.a (id int);\ninsert into public.a values (1);',
      '2_idx': 'create index concurrently a_idx on public.a (id);',
    });
    const before = await snapshot(db);
    const result = await apply(p.config(db.url, GATE_NEUTRAL), { dryRun: true });
    expect(result.status).toBe('dry-run');
    expect(result.plan).toEqual([
      {
        version: '1',
        name: 'a',
        path: 'supabase/migrations/1_a.sql',
        mode: 'transaction',
        strippedTransactionWrapper: false,
        statements: [
          { index: 0, line: 1, sql: 'create table public.a (id int)' },
          { index: 1, line: 2, sql: 'insert into public.a values (1)' },
        ],
      },
      {
        version: '2',
        name: 'idx',
        path: 'supabase/migrations/2_idx.sql',
        mode: 'non-atomic',
        strippedTransactionWrapper: false,
        statements: [
          {
            index: 0,
            line: 1,
            sql: 'create index concurrently a_idx on public.a (id)',
            nonTransactional: 'CREATE INDEX CONCURRENTLY',
          },
        ],
      },
    ]);
    expect(await snapshot(db)).toEqual(before);
  });
});

describe('history and pending', () => {
  it('catches an applied migration whose file was edited, and --allow-edited accepts it', async () => {
    const p = await projectWith({ '1_a': 'create table public.a (id int);' });
    await apply(p.config(db.url, GATE_NEUTRAL));
    await p.write('supabase/migrations/1_a.sql', 'create table public.a (id bigint);');
    await p.write('supabase/migrations/2_b.sql', 'create table public.b (id int);');

    const report = await status(p.config(db.url, GATE_NEUTRAL));
    expect(report.entries.find((e) => e.version === '1')?.state).toBe('edited');
    expect(report.ok).toBe(false);

    const before = await snapshot(db);
    const error = await rejection(apply(p.config(db.url, GATE_NEUTRAL)));
    expect(error.code).toBe('HISTORY_EDITED');
    expect(error.message).toContain('supabase/migrations/1_a.sql');
    expect(await snapshot(db)).toEqual(before);

    const allowed = await apply(p.config(db.url, { ...GATE_NEUTRAL, allowEdited: true }));
    expect(allowed.applied.map((m) => m.version)).toEqual(['2']);
  });

  it('treats a line-ending-only change as no edit', async () => {
    const p = await projectWith({
      '1_a': 'create table public.a (id int);\ncomment on table public.a is $$x$$;\n',
    });
    await apply(p.config(db.url, GATE_NEUTRAL));
    await p.write(
      'supabase/migrations/1_a.sql',
      'create table public.a (id int);\r\ncomment on table public.a is $$x$$;\r\n',
    );
    const report = await status(p.config(db.url, GATE_NEUTRAL));
    expect(report.entries[0]?.state).toBe('applied');
    expect(report.ok).toBe(true);
  });

  it('detects edits of migrations the Supabase CLI applied, from the statements it stored', async () => {
    const p = await projectWith({
      '20240101000000_a':
        '-- create a\ncreate table public.a (id int);\ncreate index a_idx on public.a (id);\n',
    });
    // What `supabase db push` writes: the table without our audit, one row with the split statements.
    await db.query(`create schema supabase_migrations;
      create table supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text);
      insert into supabase_migrations.schema_migrations values
        ('20240101000000', array['-- create a\ncreate table public.a (id int)', 'create index a_idx on public.a (id)'], 'a');`);
    let report = await status(p.config(db.url, GATE_NEUTRAL));
    expect(report.entries[0]?.state).toBe('applied');

    await p.write(
      'supabase/migrations/20240101000000_a.sql',
      '-- create a\ncreate table public.a (id int);\n',
    );
    report = await status(p.config(db.url, GATE_NEUTRAL));
    expect(report.entries[0]?.state).toBe('edited');
  });

  it('refuses a pending migration older than the newest applied one unless --include-all', async () => {
    const p = await projectWith({ '20240102000000_new': 'create table public.new (id int);' });
    await apply(p.config(db.url, GATE_NEUTRAL));
    await p.write('supabase/migrations/20240101000000_late.sql', 'create table public.late (id int);');

    const report = await status(p.config(db.url, GATE_NEUTRAL));
    expect(report.entries.map((e) => [e.version, e.state])).toEqual([
      ['20240101000000', 'out-of-order'],
      ['20240102000000', 'applied'],
    ]);
    const before = await snapshot(db);
    const error = await rejection(apply(p.config(db.url, GATE_NEUTRAL)));
    expect(error.code).toBe('HISTORY_OUT_OF_ORDER');
    expect(error.message).toContain('20240101000000_late.sql');
    expect(error.hint).toContain('--include-all');
    expect(await snapshot(db)).toEqual(before);

    const result = await apply(p.config(db.url, { ...GATE_NEUTRAL, includeAll: true }));
    expect(result.applied.map((m) => m.version)).toEqual(['20240101000000']);
  });

  it('warns about applied versions with no local file, and --strict-history makes it an error', async () => {
    const p = await projectWith({ '1_mine': 'create table public.mine (id int);' });
    await db.query(`create schema supabase_migrations;
      create table supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text);
      insert into supabase_migrations.schema_migrations values ('0', null, 'other_app');`);
    const report = await status(p.config(db.url, GATE_NEUTRAL));
    expect(report.problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'HISTORY_MISSING_LOCAL', version: '0' }),
    ]);
    expect(report.ok).toBe(true);

    const strict = await rejection(apply(p.config(db.url, { ...GATE_NEUTRAL, strictHistory: true })));
    expect(strict.code).toBe('HISTORY_MISSING_LOCAL');
    expect(strict.message).toContain('other_app');

    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.applied.map((m) => m.version)).toEqual(['1']);
  });

  it('adds the columns an old Supabase CLI history table lacks, keeping its rows', async () => {
    await db.query(`create schema supabase_migrations;
      create table supabase_migrations.schema_migrations (version text not null primary key);
      insert into supabase_migrations.schema_migrations values ('1');`);
    const p = await projectWith({ '1_old': 'select 1;', '2_new': 'create table public.n (id int);' });
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.applied.map((m) => m.version)).toEqual(['2']);
    const rows = await db.query(
      'SELECT version, name, statements FROM supabase_migrations.schema_migrations ORDER BY version',
    );
    expect(rows).toEqual([
      { version: '1', name: null, statements: null },
      { version: '2', name: 'new', statements: ['create table public.n (id int)'] },
    ]);
  });

  it('status reads without writing: a database never migrated stays untouched', async () => {
    const p = await projectWith({ '1_a': 'create table public.a (id int);' });
    const before = await snapshot(db);
    const report = await status(p.config(db.url, GATE_NEUTRAL));
    expect(report.historyExists).toBe(false);
    expect(report.pending).toEqual(['1']);
    expect(await snapshot(db)).toEqual(before);
  });
});
