import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnCli } from './harness/cli-process.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * Progress on stderr of a run whose stderr is not a terminal (a pipe, as in CI): plain lines,
 * one when a phase starts and one when it ends, in order, with no escape sequences; stdout
 * keeps the report, which says what took how long.
 */
let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query('create table public.kept (id int primary key); insert into public.kept values (1), (2);');
  await db.query('alter table public.kept enable row level security');
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

async function run(args: string[]) {
  const cli = spawnCli([...args, '--project-dir', project.dir], {
    SUPAGATE_DB_URL: db.url,
    SUPAGATE_SHADOW_URL: inject('shadowUrl'),
  });
  const { code } = await cli.exited;
  return { code, ...cli.output() };
}

/** Each fragment found after the previous one. */
function expectInOrder(text: string, fragments: string[]): void {
  let from = 0;
  for (const fragment of fragments) {
    const at = text.indexOf(fragment, from);
    expect(at, `"${fragment}" after position ${from} in:\n${text}`).toBeGreaterThanOrEqual(0);
    from = at + fragment.length;
  }
}

describe('progress on a non-terminal stderr', () => {
  it('apply, then rollback --backup: every phase as plain lines, in order, no escape sequences', async () => {
    const applied = await run(['apply', '--no-detect-local-supabase']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const target = `Target: database "${db.name}" on 127.0.0.1`;
    expect(applied.stderr.startsWith(target)).toBe(true);
    expectInOrder(applied.stderr, [
      target,
      '→ planning on a shadow copy of the database…\n',
      '✓ starting the shadow database (',
      '✓ copying the schema into the shadow (',
      '✓ running the migrations on the shadow (',
      '✓ planning on a shadow copy of the database (',
      '→ backing up the database…\n',
      '✓ backing up the database: ',
      '→ counting rows before the change…\n',
      '✓ counting rows before the change (',
      '→ migration 1/1: supabase/migrations/1_notes.sql…\n',
      '✓ migration 1/1: supabase/migrations/1_notes.sql (',
      '✓ applying the migrations (',
      '→ verifying the result…\n',
      '✓ verifying the result (',
    ]);
    for (const control of ['\u001b', '\r']) expect(applied.stderr).not.toContain(control);
    expect(applied.stdout).not.toContain('→ planning');
    expect(applied.stdout).toMatch(/Applied 1 migration in \d+ ms\./);
    expect(applied.stdout).toMatch(
      /Took [\d.]+ m?s: plan [\d.]+ m?s, backup [\d.]+ m?s, counts [\d.]+ m?s, migrations [\d.]+ m?s, verification [\d.]+ m?s\./,
    );
    const backupId = /Backup (\S+):/.exec(applied.stdout)?.[1];
    expect(backupId).toBeDefined();

    const restored = await run(['rollback', '--backup', backupId as string, '--confirm', db.name]);
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expectInOrder(restored.stderr, [
      target,
      '→ checking the backup against the database…\n',
      '✓ fetching the backup (',
      '✓ checking the backup against the database (',
      '→ taking a safety backup…\n',
      '✓ taking a safety backup: ',
      '→ restoring the backup…\n',
      '✓ fetching the backup (',
      '✓ restoring schemas and rows (',
      '✓ checking the restore against the manifest (',
      '✓ restoring the backup (',
    ]);
    for (const control of ['\u001b', '\r']) expect(restored.stderr).not.toContain(control);
    expect(restored.stdout).toMatch(
      /Took [\d.]+ m?s: checks [\d.]+ m?s, safety backup [\d.]+ m?s, restore [\d.]+ m?s\./,
    );
    const [row] = await db.query(`SELECT to_regclass('public.notes') AS t`);
    expect(row?.t).toBeNull();
  });

  it('--json keeps stdout a JSON document; progress stays on stderr', async () => {
    const { code, stdout, stderr } = await run(['status', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).command).toBe('status');
    expect(stderr).not.toContain('{');
  });
});
