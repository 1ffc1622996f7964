import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnCli } from './harness/cli-process.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * The CLI, as a process of its own, given bad inputs: each refused with a message naming the
 * setting at fault and the usual exit code, the password never shown, the database unchanged.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(
    migrations({
      '1_notes':
        'create table public.notes (id int primary key);\nalter table public.notes enable row level security;',
    }),
  );
});
afterAll(async () => {
  await project.cleanup();
  await db.drop();
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const cli = spawnCli(args, env);
  const { code } = await cli.exited;
  return { code, ...cli.output() };
}

/** The CLI run from `cwd` (spawnCli runs from the repository's root). */
async function runIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli.ts'), ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

function withPassword(password: string, rest = ''): string {
  const url = new URL(db.url);
  return `postgresql://${url.username}:${password}@${url.host}${rest || url.pathname}`;
}

describe('bad connection strings', () => {
  it('an unencoded # in the password: the setting named, how to encode it, never INTERNAL, exit 1', async () => {
    const before = await snapshot(db);
    const url = withPassword('p@ss#word');
    const fromEnv = await run(['apply', '--project-dir', project.dir, '--backup', 'off'], {
      SUPAGATE_DB_URL: url,
    });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain(
      'error [CONFIG_INVALID]: $SUPAGATE_DB_URL: the connection string has a user name or password with characters that must be encoded',
    );
    expect(fromEnv.stderr).toContain('hint: Percent-encode');
    const fromFlag = await run(['status', '--project-dir', project.dir, '--db-url', url]);
    expect(fromFlag.code).toBe(1);
    expect(fromFlag.stderr).toContain(
      'error [CONFIG_INVALID]: --db-url: the connection string has a user name',
    );
    for (const output of [fromEnv, fromFlag]) {
      expect(output.stdout + output.stderr).not.toMatch(/INTERNAL|p@ss#word|ss#word/);
    }
    expect(await snapshot(db)).toEqual(before);
  });

  it('a port that is not a number names the setting, exit 1', async () => {
    const url = new URL(db.url);
    const bad = `postgresql://${url.username}:${url.password}@${url.hostname}:54x2${url.pathname}`;
    const { code, stdout, stderr } = await run(['status', '--project-dir', project.dir], {
      SUPAGATE_DB_URL: bad,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(
      'error [CONFIG_INVALID]: $SUPAGATE_DB_URL: the connection string has a port that is not a number',
    );
    expect(stdout + stderr).not.toContain(decodeURIComponent(url.password) || 'no-password');
    expect(stdout + stderr).not.toContain('INTERNAL');
  });

  it('another database scheme is refused, for copy and diff too, exit 1', async () => {
    const mysql = 'mysql://root:secret-pw@127.0.0.1:3306/app';
    const apply = await run(['apply', '--project-dir', project.dir], { SUPAGATE_DB_URL: mysql });
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(
      'error [CONFIG_INVALID]: $SUPAGATE_DB_URL: the connection string uses the scheme mysql://, not postgresql://',
    );
    const copy = await run(['copy'], { SUPAGATE_COPY_FROM_URL: mysql, SUPAGATE_COPY_TO_URL: db.url });
    expect(copy.code).toBe(1);
    expect(copy.stderr).toContain(
      'error [CONFIG_INVALID]: $SUPAGATE_COPY_FROM_URL: the connection string uses the scheme mysql://',
    );
    const diff = await run(['diff', '--from', db.url, '--to', mysql]);
    expect(diff.code).toBe(1);
    expect(diff.stderr).toContain(
      'error [CONFIG_INVALID]: --to: the connection string uses the scheme mysql://',
    );
    for (const output of [apply, copy, diff])
      expect(output.stdout + output.stderr).not.toContain('secret-pw');
  });
});

describe('a plain PostgreSQL without the Supabase schemas', () => {
  it('is refused before any work, with what to do, exit 1, nothing changed', async () => {
    const plain = await createTestDatabase();
    try {
      await plain.query('drop schema auth cascade');
      const before = await snapshot(plain);
      for (const command of [['apply'], ['plan'], ['verify'], ['drift'], ['rollback', '--to', '0']]) {
        const { code, stdout, stderr } = await run([...command, '--project-dir', project.dir], {
          SUPAGATE_DB_URL: plain.url,
          SUPAGATE_SHADOW_URL: inject('shadowUrl'),
        });
        expect(code, `${command[0]}: ${stderr}`).toBe(1);
        expect(stderr).toContain(`error [TARGET_NOT_SUPABASE]: database "${plain.name}" on 127.0.0.1`);
        expect(stderr).toContain('is not a Supabase database: it has no auth schema');
        expect(stderr).toContain(
          'hint: supagate plans, applies and verifies the migrations of Supabase projects',
        );
        expect(stdout + stderr).not.toContain('schema "auth" does not exist');
      }
      expect(await snapshot(plain)).toEqual(before);
    } finally {
      await plain.drop();
    }
  });
});

describe('the project folder', () => {
  it('is found from a subfolder, as the Supabase CLI finds it', async () => {
    const sub = join(project.dir, 'src', 'deep');
    await mkdir(sub, { recursive: true });
    const { code, stdout, stderr } = await runIn(sub, ['status', '--json'], { SUPAGATE_DB_URL: db.url });
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ command: 'status', pending: ['1'] });
  });

  it('not found: the error names the missing directory, exit 1', async () => {
    const empty = await createProject();
    try {
      await rm(join(empty.dir, 'supabase'), { recursive: true });
      const { code, stderr } = await runIn(empty.dir, ['status'], { SUPAGATE_DB_URL: db.url });
      expect(code).toBe(1);
      expect(stderr).toContain('error [MIGRATIONS_DIR_MISSING]');
    } finally {
      await empty.cleanup();
    }
  });
});

describe('per-command help', () => {
  const flagsOf = async (command: string[]) => {
    const { code, stdout } = await run([...command, '--help']);
    expect(code).toBe(0);
    return new Set([...stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]));
  };

  it('lists only the flags each command uses', async () => {
    const apply = await flagsOf(['apply']);
    for (const flag of ['--backup', '--include-all', '--shadow-url', '--rollbacks-dir', '--lock-timeout'])
      expect(apply).toContain(flag);
    const status = await flagsOf(['status']);
    for (const flag of ['--db-url', '--project-dir', '--migrations-dir', '--json'])
      expect(status).toContain(flag);
    for (const flag of [
      '--backup',
      '--shadow-url',
      '--rollbacks-dir',
      '--schemas',
      '--lock-timeout',
      '--verify',
    ])
      expect(status).not.toContain(flag);
    const verify = await flagsOf(['verify']);
    for (const flag of ['--migrations-dir', '--include-all', '--backup', '--shadow-url', '--rollbacks-dir'])
      expect(verify).not.toContain(flag);
    expect(verify).toContain('--api-schemas');
    const drift = await flagsOf(['drift']);
    for (const flag of ['--include-all', '--backup', '--rollbacks-dir', '--backup-dir', '--dry-run'])
      expect(drift).not.toContain(flag);
    expect(drift).toContain('--shadow-url');
    const rollback = await flagsOf(['rollback']);
    for (const flag of ['--include-all', '--shadow-url', '--verify', '--atomic', '--backup-scope'])
      expect(rollback).not.toContain(flag);
    for (const flag of ['--to', '--backup', '--confirm', '--rollbacks-dir']) expect(rollback).toContain(flag);
  });

  it('names the environment variables that keep URLs out of the process list', async () => {
    const top = await run(['--help']);
    for (const name of ['SUPAGATE_DB_URL', 'SUPAGATE_COPY_FROM_URL', 'SUPAGATE_DIFF_TO_URL'])
      expect(top.stdout).toContain(name);
    expect((await run(['copy', '--help'])).stdout).toContain('$SUPAGATE_COPY_TO_URL');
    expect((await run(['diff', '--help'])).stdout).toContain('$SUPAGATE_DIFF_FROM_URL');
  });
});

describe('copy and diff URLs from the environment', () => {
  it('diff reads both databases from SUPAGATE_DIFF_FROM_URL and SUPAGATE_DIFF_TO_URL', async () => {
    const other = await createTestDatabase();
    try {
      await other.query('create table public.extra (id int primary key)');
      const { code, stdout } = await run(['diff', '--json'], {
        SUPAGATE_DIFF_FROM_URL: db.url,
        SUPAGATE_DIFF_TO_URL: other.url,
      });
      expect(code).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.diff.changes.map((c: { action: string; id: string }) => `${c.action} ${c.id}`)).toContain(
        'added public.extra',
      );
      const missing = await run(['diff'], { SUPAGATE_DIFF_FROM_URL: db.url });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(
        'error [CONFIG_INVALID]: diff needs the "after" database: --to is missing',
      );
      expect(missing.stderr).toContain('$SUPAGATE_DIFF_TO_URL');
    } finally {
      await other.drop();
    }
  });

  it('copy says which variable is missing', async () => {
    const { code, stderr } = await run(['copy'], { SUPAGATE_COPY_FROM_URL: db.url });
    expect(code).toBe(1);
    expect(stderr).toContain('error [CONFIG_INVALID]: copy needs the target database: --to is missing');
    expect(stderr).toContain('Set $SUPAGATE_COPY_TO_URL');
  });
});
