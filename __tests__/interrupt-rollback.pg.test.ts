import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { rollback, rollbackToBackup } from '../src/core/commands/rollback.js';
import { ADVISORY_LOCK_KEYS } from '../src/core/db/lock.js';
import { childProcesses, spawnCli } from './harness/cli-process.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { exactState } from './harness/exact.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * An interrupted rollback: a restore's decrypted backup must not outlive it anywhere and its
 * transaction is rolled back (the database exactly as it was); a down file's statement is
 * cancelled and its transaction rolled back. Either way the lock is free at once, supagate says
 * what was done, and the same rollback run again completes.
 */
const BACKUP_KEY = `base64:${Buffer.alloc(32, 5).toString('base64')}`;

/** Lists and checks like pg_restore; the restore itself (its script on stdout) hangs. */
const HANGS_ON_RESTORE = `#!/bin/sh
case "$*" in *--file=-*) printf 'SET lock_timeout = 0;\\n'; exec sleep 60;; esac
exec pg_restore "$@"
`;

let db: TestDatabase;
let project: TestProject;
let scratch: string;
let privateTmp: string;

beforeEach(async () => {
  db = await createTestDatabase();
  scratch = await mkdtemp(join(tmpdir(), 'supagate-interrupt-restore-'));
  // The CLI's own temporary folder: what it leaves there is its alone.
  privateTmp = join(scratch, 'tmp');
  await mkdir(privateTmp);
  project = await createProject(
    migrations({
      '1_notes':
        'create table public.notes (id int primary key, body text);\nalter table public.notes enable row level security;',
    }),
  );
});
afterEach(async () => {
  await project.cleanup();
  await rm(scratch, { recursive: true, force: true });
  await db.drop();
});

async function lockIsFree(): Promise<boolean> {
  const [row] = await db.query<{ free: boolean }>(
    'SELECT pg_try_advisory_lock($1, $2) AS free, pg_advisory_unlock($1, $2)',
    [...ADVISORY_LOCK_KEYS],
  );
  return row?.free ?? false;
}

describe('an interrupted restore', () => {
  it('SIGINT while the backup is being restored: no decrypted file left, database as it was, exit 130', async () => {
    const backupDir = join(scratch, 'backups');
    const config = project.config(db.url, { backup: 'on', backupDir, backupKey: BACKUP_KEY });
    const applied = await apply(config);
    expect(applied.status).toBe('applied');
    const backupId = applied.backup.status === 'taken' ? applied.backup.id : '';
    await db.query("insert into public.notes values (1, 'written after the apply')");
    // The restore of the backup taken before the apply would drop notes and its row: say so.
    const before = await exactState(db);
    const pgRestore = join(scratch, 'pg_restore');
    await writeFile(pgRestore, HANGS_ON_RESTORE);
    await chmod(pgRestore, 0o755);

    const cli = spawnCli(
      [
        'rollback',
        '--backup',
        backupId,
        '--confirm',
        db.name,
        '--discard-writes-since-backup',
        '--project-dir',
        project.dir,
        '--backup-dir',
        backupDir,
        '--pg-restore',
        pgRestore,
      ],
      { SUPAGATE_DB_URL: db.url, SUPAGATE_BACKUP_KEY: BACKUP_KEY, TMPDIR: privateTmp },
    );
    let restoring = false;
    for (let i = 0; i < 400 && !restoring && cli.child.exitCode === null; i++) {
      // The stand-in pg_restore has become `sleep 60` once the restore runs its script.
      restoring = (await childProcesses(cli.child.pid as number)).some((p) => p.args === 'sleep 60');
      if (!restoring) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(restoring, `${cli.output().stdout}${cli.output().stderr}`).toBe(true);
    const workDirs = (await readdir(privateTmp)).filter((name) => name.startsWith('supagate-restore-'));
    expect(workDirs.length).toBeGreaterThan(0);

    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    const { stdout, stderr } = cli.output();
    expect(code, `${stdout}${stderr}`).toBe(130);
    expect(stderr).toContain('✓ deleted the decrypted backup being restored');
    expect(`${stdout}${stderr}`).not.toMatch(/INTERNAL|\n\s+at /);
    expect((await readdir(privateTmp)).filter((name) => name.startsWith('supagate-restore-'))).toEqual([]);
    expect(await exactState(db)).toEqual(before);
    expect(await lockIsFree()).toBe(true);

    const again = await rollbackToBackup(config, {
      backupId,
      confirm: db.name,
      discardWritesSinceBackup: true,
    });
    expect(again.status).toBe('rolled-back');
    expect(await db.query(`SELECT to_regclass('public.notes') AS t`)).toEqual([{ t: null }]);
  });
});

describe('an interrupted rollback to a version', () => {
  it('SIGTERM during a down file: cancelled, lock free, says what was rolled back, exit 143', async () => {
    const table = (name: string) =>
      `create table public.${name} (id int);\nalter table public.${name} enable row level security;`;
    await project.write('supabase/migrations/2_b.sql', table('b'));
    await project.write('supabase/migrations/3_c.sql', table('c'));
    await project.write('supabase/rollbacks/2_b.sql', 'drop table public.b;\nselect pg_sleep(60);');
    await project.write('supabase/rollbacks/3_c.sql', 'drop table public.c;');
    expect((await apply(project.config(db.url))).status).toBe('applied');

    const cli = spawnCli(
      ['rollback', '--to', '1', '--confirm', db.name, '--project-dir', project.dir, '--safety-backup', 'off'],
      { SUPAGATE_DB_URL: db.url, TMPDIR: privateTmp },
    );
    for (let i = 0; i < 600 && cli.child.exitCode === null; i++) {
      const sleeping = await db.query(
        `SELECT 1 FROM pg_stat_activity WHERE application_name = 'supagate rollback' AND state = 'active' AND query LIKE '%pg_sleep%'`,
      );
      if (sleeping.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    const { stdout, stderr } = cli.output();
    expect(code, `${stdout}${stderr}`).toBe(143);
    expect(stderr).toMatch(/✓ cancelled the statement rollback was running on the server \(backend \d+\)/);
    expect(stderr).toContain('✓ rolled back before the interrupt (gone from the history): 3_c.sql');
    expect(stderr).toContain('✓ still applied: 2_b.sql; run rollback again to continue');
    expect(`${stdout}${stderr}`).not.toMatch(/INTERNAL|\n\s+at /);
    expect(await lockIsFree()).toBe(true);
    const history = await db.query<{ version: string }>(
      'SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1',
    );
    expect(history.map((row) => row.version)).toEqual(['1', '2']);
    expect(await db.query(`SELECT to_regclass('public.b') IS NOT NULL AS b`)).toEqual([{ b: true }]);

    await project.write('supabase/rollbacks/2_b.sql', 'drop table public.b;');
    const again = await rollback(project.config(db.url), { to: '1', confirm: db.name });
    expect(again.status).toBe('rolled-back');
    expect(again.reverted.map((r) => r.version)).toEqual(['2']);
  });
});
