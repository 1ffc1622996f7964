import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { FAILS_IN_PRODUCTION, seedProductionRows } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

const run = promisify(execFile);
let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedProductionRows(db);
  // The plan passes (RLS on, the failure needs production's rows); production fails at 2_b.sql:2.
  project = await createProject(
    migrations({
      '1_a': 'create table public.a (id int);\nalter table public.a enable row level security;',
      '2_b': `create table public.b (id int);\n${FAILS_IN_PRODUCTION};\nalter table public.b enable row level security;`,
    }),
  );
});
afterAll(async () => {
  await project.cleanup();
  await db.drop();
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}

function passwordOf(url: string): string {
  return decodeURIComponent(new URL(url).password);
}

describe('supagate CLI', () => {
  it('has --help on every command', async () => {
    for (const command of ['status', 'plan', 'apply', 'rollback', 'drift', 'verify']) {
      const { code, stdout } = await cli([command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: supagate ${command}`);
      expect(stdout).toContain('--json');
    }
    const top = await cli(['--help']);
    expect(top.stdout).toMatch(/status[\s\S]*apply/);
  });

  it('offers the flags the restore and the backup watchdog name in their hints', async () => {
    expect((await cli(['rollback', '--help'])).stdout).toContain('--discard-writes-since-backup');
    expect((await cli(['apply', '--help'])).stdout).toContain('--stall-timeout');
    for (const command of ['plan', 'apply', 'drift'])
      expect((await cli([command, '--help'])).stdout).toContain('--shadow-disposable');
  });

  it('prints status as JSON with stable fields', async () => {
    const { code, stdout } = await cli(['status', '--json', '--project-dir', project.dir], {
      SUPAGATE_DB_URL: db.url,
    });
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, command: 'status', historyExists: false, pending: ['1', '2'] });
    expect(result.entries.map((e: { state: string }) => e.state)).toEqual(['pending', 'pending']);
    expect(stdout).not.toContain(passwordOf(db.url));
  });

  it('prints a dry run as text and changes nothing', async () => {
    const { code, stdout } = await cli([
      'apply',
      '--dry-run',
      '--project-dir',
      project.dir,
      '--db-url',
      db.url,
      '--shadow-url',
      inject('shadowUrl'),
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('Dry run: nothing was changed');
    expect(stdout).not.toContain('The plan blocks');
    expect(stdout).toContain('supabase/migrations/1_a.sql  [one transaction]');
    expect(stdout).not.toContain(passwordOf(db.url));
    const [row] = await db.query(`SELECT to_regclass('supabase_migrations.schema_migrations') AS t`);
    expect(row?.t).toBeNull();
  });

  it('refuses, changing nothing, migrations that fail on the shadow copy (the plan runs first, verification on or off)', async () => {
    const failing = await createProject(
      migrations({
        '1_a': 'create table public.a (id int);\nalter table public.a enable row level security;',
        '2_b': 'create table public.b (id int);\nselect 1/0;',
      }),
    );
    try {
      for (const verify of ['on', 'off']) {
        const { code, stderr } = await cli(
          [
            'apply',
            '--project-dir',
            failing.dir,
            '--shadow-url',
            inject('shadowUrl'),
            '--backup',
            'off',
            '--verify',
            verify,
          ],
          { SUPAGATE_DB_URL: db.url },
        );
        expect(code).toBe(1);
        expect(stderr).toContain('error [PLAN_FAILED]: The migrations fail on a copy of production');
        expect(stderr).toContain('supabase/migrations/2_b.sql:2:1');
        const [row] = await db.query(`SELECT to_regclass('public.a') AS t`);
        expect(row?.t).toBeNull();
      }
    } finally {
      await failing.cleanup();
    }
  });

  it('exits 1 with the located failure when a migration fails, as JSON too', async () => {
    const env = { SUPAGATE_DB_URL: db.url, SUPAGATE_SHADOW_URL: inject('shadowUrl') };
    const { code, stdout } = await cli(
      ['apply', '--json', '--verify', 'off', '--project-dir', project.dir],
      env,
    );
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result.ok).toBe(false);
    expect(result.status).toBe('failed');
    expect(result.applied.map((m: { version: string }) => m.version)).toEqual(['1']);
    expect(result.failure).toMatchObject({ path: 'supabase/migrations/2_b.sql', line: 2, sqlstate: '22012' });

    const text = await cli(['apply', '--verify', 'off', '--project-dir', project.dir], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('✗ supabase/migrations/2_b.sql:2:1  division by zero [SQLSTATE 22012]');
  });

  it('says what to do when no database is given', async () => {
    const { code, stderr } = await cli(['status', '--project-dir', project.dir]);
    expect(code).toBe(1);
    expect(stderr).toContain('error [CONFIG_INVALID]: No target database given');
    expect(stderr).toContain('SUPAGATE_DB_URL');
  });

  it('never prints the password of a database it cannot reach', async () => {
    const url = 'postgresql://postgres:s3cr%40t-pw@127.0.0.1:1/postgres';
    for (const json of [false, true]) {
      const { code, stdout, stderr } = await cli(
        ['status', '--project-dir', project.dir, ...(json ? ['--json'] : [])],
        {
          SUPAGATE_DB_URL: url,
        },
      );
      expect(code).toBe(1);
      expect(stderr).toContain('DB_CONNECT_FAILED');
      for (const secret of ['s3cr@t-pw', 's3cr%40t-pw', url]) expect(stdout + stderr).not.toContain(secret);
    }
  });

  it('rejects unknown options and bad values with a usage error', async () => {
    const unknown = await cli(['apply', '--no-such-flag']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--no-such-flag'");
    const badChoice = await cli(['apply', '--atomic', 'sometimes']);
    expect(badChoice.code).toBe(2);
    const badDuration = await cli(['apply', '--lock-timeout', 'soon', '--project-dir', project.dir], {
      SUPAGATE_DB_URL: db.url,
    });
    expect(badDuration.code).toBe(1);
    expect(badDuration.stderr).toContain('Invalid value for lock-timeout: "soon"');
  });

  it('plan exits 3 when something blocks, also from the bundled bin with an embedded shadow', async () => {
    const other = await createTestDatabase();
    const blocking = await createProject(
      migrations({ '1_open': 'create table public.open_table (id int primary key);' }),
    );
    try {
      const spawned = await run(
        process.execPath,
        ['bin/supagate.js', 'plan', '--json', '--no-detect-local-supabase', '--project-dir', blocking.dir],
        { env: { ...process.env, SUPAGATE_DB_URL: other.url } },
      ).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code: number; stdout: string }) => error,
      );
      expect(spawned.code).toBe(3);
      const result = JSON.parse(spawned.stdout);
      expect(result.blocking).toBe(true);
      expect(result.shadow.source).toBe('embedded');
      expect(result.lints.introduced.map((l: { code: string }) => l.code)).toContain(
        'rls_disabled_in_public',
      );

      const out = `${blocking.dir}/plan.md`;
      const inProcess = await cli(
        ['plan', '--project-dir', blocking.dir, '--out', out, '--shadow-url', inject('shadowUrl')],
        {
          SUPAGATE_DB_URL: other.url,
        },
      );
      expect(inProcess.code).toBe(3);
      expect(inProcess.stdout).toContain('BLOCKING:');
      expect(await readFile(out, 'utf8')).toContain('### supagate plan');
    } finally {
      await blocking.cleanup();
      await other.drop();
    }
  });

  it('apply exits 3 when the plan blocks, dry run or not, and changes nothing', async () => {
    const other = await createTestDatabase();
    const blocking = await createProject(
      migrations({ '1_open': 'create table public.open_table (id int primary key);' }),
    );
    try {
      const before = await snapshot(other);
      const env = { SUPAGATE_DB_URL: other.url, SUPAGATE_SHADOW_URL: inject('shadowUrl') };
      const dry = await cli(['apply', '--dry-run', '--project-dir', blocking.dir], env);
      expect(dry.code).toBe(3);
      expect(dry.stdout).toContain('The plan blocks: apply would refuse');
      expect(dry.stdout).toContain('rls_disabled_in_public');
      const refused = await cli(['apply', '--project-dir', blocking.dir], env);
      expect(refused.code).toBe(3);
      expect(refused.stdout).toContain(
        'Refused: the plan blocks. No backup was taken and nothing was changed',
      );
      expect(refused.stdout).toContain('supabase/migrations/1_open.sql');
      const json = await cli(['apply', '--json', '--project-dir', blocking.dir], env);
      expect(json.code).toBe(3);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'blocked', applied: [] });
      expect(await snapshot(other)).toEqual(before);
      // No backup either (backups are on by default from the CLI).
      expect(existsSync(join(blocking.dir, '.supagate'))).toBe(false);
    } finally {
      await blocking.cleanup();
      await other.drop();
    }
  });

  it('diffs two databases', async () => {
    const other = await createTestDatabase();
    try {
      await other.query('create table public.a (id int); create table public.extra (id int primary key);');
      const { code, stdout } = await cli(['diff', '--json', '--from', db.url, '--to', other.url]);
      expect(code).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.command).toBe('diff');
      expect(result.diff.changes.map((c: { id: string; action: string }) => `${c.action} ${c.id}`)).toContain(
        'added public.extra',
      );
      const missing = await cli(['diff', '--from', db.url]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('--to is missing');
    } finally {
      await other.drop();
    }
  });

  it('drift exits 0 in sync and 3 after a change outside the migrations, with a markdown report', async () => {
    const prod = await createTestDatabase();
    const app = await createProject(
      migrations({
        '1_notes':
          'create table public.notes (id int primary key);\nalter table public.notes enable row level security;',
      }),
    );
    try {
      const env = { SUPAGATE_DB_URL: prod.url, SUPAGATE_SHADOW_URL: inject('shadowUrl') };
      const common = ['--project-dir', app.dir, '--no-detect-local-supabase'];
      expect((await cli(['apply', ...common, '--backup', 'off', '--verify', 'off'], env)).code).toBe(0);
      const clean = await cli(['drift', ...common], env);
      expect(clean.stdout).toContain('In sync');
      expect(clean.code).toBe(0);
      await prod.query('alter table public.notes add column added_by_hand text');
      const out = `${app.dir}/drift.md`;
      const drifted = await cli(['drift', ...common, '--out', out], env);
      expect(drifted.code).toBe(3);
      expect(drifted.stdout).toContain('DRIFT');
      expect(drifted.stdout).toContain('added_by_hand');
      expect(await readFile(out, 'utf8')).toContain(
        '### supagate drift: production differs from its migrations',
      );
      expect(drifted.stdout + drifted.stderr).not.toContain(passwordOf(prod.url));
    } finally {
      await app.cleanup();
      await prod.drop();
    }
  });

  it('shows the progress of the row counts on stderr for a database with many tables', async () => {
    const prod = await createTestDatabase();
    const app = await createProject(
      migrations({
        '1_more': 'create table public.more (id int);\nalter table public.more enable row level security;',
      }),
    );
    try {
      await prod.query(
        `do $$ begin for i in 1..60 loop
           execute format('create table public.t%s (id int); alter table public.t%s enable row level security', i, i);
         end loop; end $$`,
      );
      const run = await cli(
        ['apply', '--project-dir', app.dir, '--backup', 'off', '--no-detect-local-supabase'],
        {
          SUPAGATE_DB_URL: prod.url,
          SUPAGATE_SHADOW_URL: inject('shadowUrl'),
        },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).toMatch(/^counting rows before the change: (\d+)\/\1 tables$/m);
      expect(run.stderr).toMatch(/^counting rows after the change: (\d+)\/\1 tables$/m);
      expect(run.stdout).not.toContain('counting rows');
    } finally {
      await app.cleanup();
      await prod.drop();
    }
  });

  it('runs from the bundled bin/supagate.js', async () => {
    const { stdout } = await run(
      process.execPath,
      ['bin/supagate.js', 'status', '--json', '--project-dir', project.dir],
      {
        env: { ...process.env, SUPAGATE_DB_URL: db.url },
      },
    ).catch((error: { stdout: string }) => error);
    const result = JSON.parse(stdout);
    expect(result.command).toBe('status');
    expect(result.entries.length).toBe(2);
  });
});
