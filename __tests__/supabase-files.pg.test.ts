import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { apply } from '../src/core/commands/apply.js';
import { plan } from '../src/core/commands/plan.js';
import { status } from '../src/core/commands/status.js';
import { renderPlanMarkdown } from '../src/core/report/markdown.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/** Files the Supabase CLI runs: supagate plans and applies them with the same effect. */

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

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await runCli(args, { stdout: (text) => (stdout += text), stderr: () => {}, env });
  return { code, stdout };
}

async function history(): Promise<unknown[]> {
  return db.query(
    'SELECT version, statements FROM supabase_migrations.schema_migrations ORDER BY version::bigint',
  );
}

const REALTIME = [
  'create table public.messages (id bigint primary key, body text);',
  'alter table public.messages enable row level security;',
  'begin;',
  '  drop publication if exists supabase_realtime;',
  '  create publication supabase_realtime;',
  'commit;',
  'alter publication supabase_realtime add table public.messages;',
].join('\n');

describe('a BEGIN … COMMIT block in the middle of a file (Supabase’s Realtime snippet)', () => {
  it('plans on the shadow, applies with the same effect and records the statements as the CLI does', async () => {
    const p = await projectWith({ '1_realtime': REALTIME });
    const planned = await plan(p.config(db.url, GATE_NEUTRAL));
    expect(planned.failure).toBeUndefined();
    expect(planned.status).toBe('planned');

    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('applied');
    const published = await db.query(
      `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime'`,
    );
    expect(published).toEqual([{ schemaname: 'public', tablename: 'messages' }]);
    expect(await history()).toEqual([
      {
        version: '1',
        statements: [
          'create table public.messages (id bigint primary key, body text)',
          'alter table public.messages enable row level security',
          'begin',
          'drop publication if exists supabase_realtime',
          'create publication supabase_realtime',
          'commit',
          'alter publication supabase_realtime add table public.messages',
        ],
      },
    ]);
  });
});

describe('an empty file', () => {
  it('is a warning naming the file, plans, and is recorded as applied as the CLI does', async () => {
    const p = await projectWith({
      '1_a': 'create table public.a (id int);',
      '2_todo': '-- todo\n',
      '3_blank': '\n',
    });
    const before = await status(p.config(db.url));
    expect(before.ok).toBe(true);
    expect(before.problems).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'MIGRATION_EMPTY',
        path: 'supabase/migrations/2_todo.sql',
      }),
      expect.objectContaining({ code: 'MIGRATION_EMPTY', path: 'supabase/migrations/3_blank.sql' }),
    ]);
    expect((await plan(p.config(db.url, GATE_NEUTRAL))).status).toBe('planned');

    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.applied.map((m) => m.version)).toEqual(['1', '2', '3']);
    expect(await history()).toEqual([
      { version: '1', statements: ['create table public.a (id int)'] },
      { version: '2', statements: ['-- todo'] },
      { version: '3', statements: [] },
    ]);
    expect((await status(p.config(db.url))).pending).toEqual([]);
  });
});

describe('files that cannot run', () => {
  it('does not let an applied file that no longer parses block the pending ones: a warning on status', async () => {
    // Applied by the Supabase CLI, which runs what supagate refuses (a ROLLBACK).
    const old = 'create table public.a (id int);\nrollback;';
    const p = await projectWith({ '1_old': old, '2_new': 'create table public.b (id int);' });
    await db.query('create table public.a (id int)');
    await db.query(
      `create schema supabase_migrations;
       create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
       insert into supabase_migrations.schema_migrations values ('1', array['create table public.a (id int)', 'rollback'], 'old');`,
    );
    const before = await status(p.config(db.url));
    expect(before.ok).toBe(true);
    expect(before.pending).toEqual(['2']);
    expect(before.problems).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'MIGRATION_TRANSACTION_CONTROL',
        message: expect.stringContaining('supabase/migrations/1_old.sql:2:1'),
      }),
    ]);
    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.applied.map((m) => m.version)).toEqual(['2']);
  });

  it('reports every pending file that cannot run, each with file:line, in status, plan and apply', async () => {
    const p = await projectWith({
      '1_a': 'create table public.a (id int);',
      '2_syntax': 'select 1;\ncreate tabel public.b (id int);',
      '3_rollback': 'select 1;\n\nrollback;',
    });
    const expected = [
      expect.stringMatching(/^supabase\/migrations\/2_syntax\.sql:2:/),
      expect.stringMatching(/^supabase\/migrations\/3_rollback\.sql:3:1:/),
    ];
    const checked = await status(p.config(db.url));
    expect(checked.ok).toBe(false);
    expect(checked.problems.map((problem) => problem.message)).toEqual(expected);

    const planned = await plan(p.config(db.url, GATE_NEUTRAL));
    expect(planned.status).toBe('failed');
    expect(planned.failure).toMatchObject({
      stage: 'files',
      file: 'supabase/migrations/2_syntax.sql',
      line: 2,
    });
    expect(planned.blockingReasons).toEqual(expected);

    const error = await rejection(apply(p.config(db.url, GATE_NEUTRAL)));
    expect(error.code).toBe('MIGRATION_PARSE_ERROR');
    expect(error.message).toContain('2_syntax.sql:2:');
    expect(error.message).toContain('3_rollback.sql:3:1');
  });
});

describe('exit codes', () => {
  it('plan exits 1 with a hint naming the fix when the shadow lacks an extension, 3 when a migration fails', async () => {
    const p = await projectWith({
      // Neither in the embedded server's contrib nor among supagate's stand-ins.
      '1_postgis': 'create extension if not exists postgis with schema extensions;',
    });
    const env = { SUPAGATE_DB_URL: db.url, SUPAGATE_SHADOW_URL: inject('shadowUrl') };
    const missing = await cli(['plan', '--json', '--project-dir', p.dir], env);
    expect(missing.code).toBe(1);
    const result = JSON.parse(missing.stdout);
    expect(result.failure).toMatchObject({
      kind: 'environment',
      hint: expect.stringContaining('--shadow-url'),
    });

    const text = await cli(['plan', '--project-dir', p.dir], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('ERROR (the shadow, not the migrations)');
    expect(text.stdout).not.toContain('BLOCKING');
    expect(renderPlanMarkdown(result)).toContain('**Error**');

    await p.write('supabase/migrations/1_postgis.sql', 'select 1/0;');
    expect((await cli(['plan', '--project-dir', p.dir], env)).code).toBe(3);
  });
});
