import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { apply } from '../src/core/commands/apply.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { exactState } from './harness/exact.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * apply and the plan make one decision: what the plan blocks is never applied, unless
 * accepted in the migration or in supagate.yml. A refusal happens before the backup, so the
 * database, its history and the backup store stay exactly as they were.
 */
let db: TestDatabase;
let project: TestProject | undefined;
let backupDir: string;

const BACKUP_KEY = `base64:${Buffer.alloc(32, 7).toString('base64')}`;

beforeEach(async () => {
  db = await createTestDatabase();
  backupDir = await mkdtemp(join(tmpdir(), 'supagate-gate-backups-'));
  await db.query(`
    create table public.posts (id bigint primary key, title text, body text);
    alter table public.posts enable row level security;
    create policy "own posts" on public.posts for select to authenticated using (id > 0);
    insert into public.posts select g, 'title ' || g, 'body ' || g from generate_series(1, 50) g;
  `);
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await rm(backupDir, { recursive: true, force: true });
  await db.drop();
});

async function cliApply(dir: string, extra: string[] = []) {
  let stdout = '';
  const code = await runCli(
    ['apply', '--project-dir', dir, '--backup-dir', backupDir, '--no-detect-local-supabase', ...extra],
    {
      stdout: (text) => {
        stdout += text;
      },
      stderr: () => {},
      env: {
        SUPAGATE_DB_URL: db.url,
        SUPAGATE_SHADOW_URL: inject('shadowUrl'),
        SUPAGATE_BACKUP_KEY: BACKUP_KEY,
      },
    },
  );
  return { code, stdout };
}

/** Each is a hazard the plan blocks; the second file touches the same table as the first. */
const BLOCKED: Record<string, { files: Record<string, string>; code: string; where: string }> = {
  'a DELETE without WHERE': {
    files: {
      '1_title': 'alter table public.posts add column subtitle text;',
      '2_wipe': 'comment on table public.posts is $$posts$$;\ndelete from public.posts;',
    },
    code: 'delete-without-where',
    where: 'supabase/migrations/2_wipe.sql:2',
  },
  'a dropped column': {
    files: {
      '1_title': 'alter table public.posts add column subtitle text;',
      '2_drop': '\nalter table public.posts drop column body;',
    },
    code: 'drop-column',
    where: 'supabase/migrations/2_drop.sql:2',
  },
  'RLS disabled': {
    files: { '1_open': 'alter table public.posts disable row level security;' },
    code: 'rls-disabled',
    where: 'supabase/migrations/1_open.sql:1',
  },
  'anon reading every row': {
    files: { '1_public': 'create policy "anyone" on public.posts for select to anon using (true);' },
    code: 'access-widened',
    where: 'supabase/migrations/1_public.sql:1',
  },
};

describe('apply decides as the plan does', () => {
  it.each(
    Object.entries(BLOCKED),
  )('refuses %s with exit 3, leaving database, history and backup store as they were', async (_name, {
    files,
    code,
    where,
  }) => {
    project = await createProject(migrations(files));
    const before = await exactState(db);
    const { code: exit, stdout } = await cliApply(project.dir);
    expect(exit).toBe(3);
    expect(stdout).toContain('Refused: the plan blocks');
    expect(stdout).toContain(code);
    expect(stdout).toContain(where);
    expect(stdout).toContain(`-- supagate:allow ${code}`);
    expect(await exactState(db)).toEqual(before);
    expect(await readdir(backupDir)).toEqual([]);
  });

  it('says so in a dry run, with exit 3, and changes nothing', async () => {
    project = await createProject(migrations(BLOCKED['a dropped column']?.files ?? {}));
    const before = await exactState(db);
    const { code, stdout } = await cliApply(project.dir, ['--dry-run']);
    expect(code).toBe(3);
    expect(stdout).toContain('apply would refuse');
    expect(stdout).toContain('drop-column');
    expect(await exactState(db)).toEqual(before);
  });

  it('applies once the finding is accepted in the migration that causes it', async () => {
    project = await createProject(
      migrations({
        '1_title': 'alter table public.posts add column subtitle text;',
        '2_drop':
          '-- supagate:allow drop-column: body moved to storage\nalter table public.posts drop column body;',
      }),
    );
    const { code, stdout } = await cliApply(project.dir, ['--verify', 'off']);
    expect(stdout).toContain('Applied 2 migrations');
    expect(code).toBe(0);
    const columns = await db.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'posts' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'title', 'subtitle']);
  });

  it('does not take an acceptance written in another file', async () => {
    project = await createProject(
      migrations({
        '1_title':
          '-- supagate:allow drop-column: wrong file\nalter table public.posts add column subtitle text;',
        '2_drop': 'alter table public.posts drop column body;',
      }),
    );
    const before = await exactState(db);
    const { code } = await cliApply(project.dir);
    expect(code).toBe(3);
    expect(await exactState(db)).toEqual(before);
  });

  it('applies a finding accepted in supabase/supagate.yml', async () => {
    project = await createProject({
      ...migrations({ '1_wipe': 'delete from public.posts;' }),
      'supabase/supagate.yml':
        'acceptedHazards:\n  - code: delete-without-where\n    version: "1"\n    reason: test data only\n',
    });
    const result = await apply(project.config(db.url));
    expect(result.status).toBe('applied');
    expect(await db.query('SELECT * FROM public.posts')).toEqual([]);
  });

  it('refuses a table exposed without RLS (a lint), and applies it once accepted in its file', async () => {
    const table = 'create table public.guestbook (id int primary key, body text);';
    project = await createProject(migrations({ '1_guestbook': table }));
    const before = await exactState(db);
    const refused = await cliApply(project.dir);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain('rls_disabled_in_public');
    expect(refused.stdout).toContain('supabase/migrations/1_guestbook.sql:1');
    expect(await exactState(db)).toEqual(before);

    await project.write(
      'supabase/migrations/1_guestbook.sql',
      `-- supagate:allow rls_disabled_in_public: a public guestbook, read by anyone on purpose\n${table}`,
    );
    const accepted = await cliApply(project.dir, ['--verify', 'off']);
    expect(accepted.stdout).toContain('Applied 1 migration');
    expect(accepted.code).toBe(0);
  });
});
