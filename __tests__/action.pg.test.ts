import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from './harness/action.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

let db: TestDatabase;
let project: TestProject;
let backupId = '';
const backupKey = 'backup-passphrase-0123456789';

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(
    migrations({
      '1_a': 'create table public.a (id int primary key);\nalter table public.a enable row level security;',
    }),
  );
});
afterAll(async () => {
  await project.cleanup();
  await db.drop();
});

describe('the Action (dist/index.js run as the runner runs it)', () => {
  it('applies, sets outputs, writes the job summary and masks the connection string', async () => {
    const password = decodeURIComponent(new URL(db.url).password);
    const run = await runAction({
      command: 'apply',
      'db-url': db.url,
      'working-directory': project.dir,
      'backup-key': backupKey,
      'backup-store': 'directory',
      // The approval gate has its own tests (action-apply-gate.pg.test.ts).
      'require-approval': 'false',
    });
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.outputs.applied_versions).toBe('1');
    expect(run.outputs.status).toBe('applied');
    expect(run.outputs.verification).toBe('passed');
    expect(run.outputs.backup_id).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}$/);
    backupId = run.outputs.backup_id as string;
    expect(run.stdout).toContain(`::add-mask::${backupKey}`);
    expect(run.summary).toContain('supabase/migrations/1_a.sql');
    expect(run.stdout).toContain(`::add-mask::${db.url}`);
    expect(run.stdout).toContain(`::add-mask::${password}`);
    const [audit] = await db.query(`SELECT applied_by, run_id FROM supabase_migrations.supagate_audit`);
    expect(audit).toEqual({ applied_by: 'octocat', run_id: '4242' });
    // Nothing but the mask commands carries the secret.
    const unmasked = run.stdout
      .split('\n')
      .filter((line) => !line.startsWith('::add-mask::'))
      .join('\n');
    for (const text of [unmasked, run.stderr, run.summary, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(backupKey);
    }
  });

  it('reports status outputs', async () => {
    const run = await runAction({ command: 'status', 'db-url': db.url, 'working-directory': project.dir });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.pending_count).toBe('0');
  });

  it('restores a backup of another database only when allow-other-target says so', async () => {
    const other = await createTestDatabase();
    try {
      await other.query('create table public.only_here (id int)');
      const inputs = {
        command: 'rollback',
        'db-url': other.url,
        'working-directory': project.dir,
        'backup-store': 'directory',
        'backup-key': backupKey,
        'backup-id': backupId,
        confirm: other.name,
        backup: 'off',
      };
      const before = await snapshot(other);
      const refused = await runAction(inputs);
      expect(refused.exitCode).toBe(1);
      expect(refused.stdout).toContain('RESTORE_TARGET_MISMATCH');
      expect(refused.stdout).toContain('allow-other-target: true');
      expect(await snapshot(other)).toEqual(before);
      const restored = await runAction({ ...inputs, 'allow-other-target': 'true' });
      expect(restored.exitCode, restored.stdout).toBe(0);
      expect(restored.outputs.status).toBe('rolled-back');
      // The backup was taken of the other database before its first migration: public as it was then.
      expect(await other.query(`select to_regclass('public.only_here') is null as replaced`)).toEqual([
        { replaced: true },
      ]);
    } finally {
      await other.drop();
    }
  });

  it('refuses the default artifact store without backup-key before anything runs, naming the input', async () => {
    await project.write('supabase/migrations/2_b.sql', 'create table public.b (id int primary key);');
    try {
      const before = await snapshot(db);
      const run = await runAction({
        command: 'apply',
        'db-url': db.url,
        'working-directory': project.dir,
        'require-approval': 'false',
      });
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain(
        '[BACKUP_UNENCRYPTED_ARTIFACT]: The github-artifact backup store takes only encrypted backups, and no encryption key is set',
      );
      expect(run.stdout).toContain(
        "Set the Action's backup-key input ($SUPAGATE_BACKUP_KEY for the library and CLI) from a secret",
      );
      expect(await snapshot(db)).toEqual(before);
    } finally {
      await project.remove('supabase/migrations/2_b.sql');
    }
  });

  it('names the inputs at fault: rollback without a target, or with two; a target name that is not one', async () => {
    const rollback = (inputs: Record<string, string>) =>
      runAction(
        { command: 'rollback', 'db-url': db.url, 'working-directory': project.dir, ...inputs },
        { eventName: 'workflow_dispatch' },
      );
    const neither = await rollback({});
    expect(neither.exitCode).toBe(1);
    expect(neither.stdout).toContain('[CONFIG_INVALID]: rollback needs to-version or backup-id');
    const both = await rollback({ 'to-version': '1', 'backup-id': backupId });
    expect(both.exitCode).toBe(1);
    expect(both.stdout).toContain('[CONFIG_INVALID]: Give either to-version or backup-id, not both');
    const badTarget = await runAction({
      command: 'drift',
      'db-url': db.url,
      'working-directory': project.dir,
      target: 'prod db',
    });
    expect(badTarget.exitCode).toBe(1);
    expect(badTarget.stdout).toContain('[CONFIG_INVALID]: The target input "prod db" is not a short name');
  });

  it('checks the schemas api-schemas names as exposed: verify fails on a table there without RLS', async () => {
    await db.query('create schema api; create table api.exposed (id int primary key)');
    try {
      const verify = (schemas: string) =>
        runAction({
          command: 'verify',
          'db-url': db.url,
          'working-directory': project.dir,
          'api-schemas': schemas,
        });
      const exposed = await verify('public,api');
      expect(exposed.exitCode).toBe(1);
      expect(exposed.stdout).toContain('api.exposed is in the API schema api without row level security');
      const hidden = await verify('public');
      expect(hidden.exitCode, hidden.stdout).toBe(0);
    } finally {
      await db.query('drop schema api cascade');
    }
  });

  it('fails with a clear message for a command it does not have', async () => {
    const run = await runAction({ command: 'deploy', 'db-url': db.url });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      '::error::Unknown command "deploy". Use one of: plan, apply, rollback, drift, verify, status, repair.',
    );
  });
});
