import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { listBackups } from '../src/core/backup/backup.js';
import { DirectoryStore } from '../src/core/backup/stores.js';
import { apply } from '../src/core/commands/apply.js';
import { findPgTool } from '../src/core/db/pgtools.js';
import { SupagateError } from '../src/core/errors.js';
import { renderApply } from '../src/core/report/text.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { fakePgDump } from './harness/fake-tools.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

const KEY = 'a'.repeat(64);
let db: TestDatabase;
let project: TestProject;
let tools: string;

beforeEach(async () => {
  db = await createTestDatabase();
  project = await createProject(
    migrations({
      '1_items':
        'create table public.items (id int primary key, name text);\nalter table public.items enable row level security;\ninsert into public.items values (1, $$a$$), (2, $$b$$);',
    }),
  );
  expect((await apply(project.config(db.url))).status).toBe('applied');
  await project.write(
    'supabase/migrations/2_drop_name.sql',
    '-- supagate:allow drop-column: the names are no longer used; the backup keeps them\nalter table public.items drop column name;',
  );
  tools = await mkdtemp(join(tmpdir(), 'supagate-tools-'));
});
afterEach(async () => {
  await project.cleanup();
  await rm(tools, { recursive: true, force: true });
  await db.drop();
});

/**
 * A pg_dump that is the real one for the plan's clone of production's schema (the gate plans
 * before the backup) and runs the shell `body` for the backup itself.
 */
async function backupPgDump(body: string): Promise<string> {
  const real = await findPgTool('pg_dump', { minMajor: 15 });
  return fakePgDump(tools, `case " $* " in *" --schema-only "*) exec '${real.path}' "$@";; esac\n${body}`);
}

describe('apply takes a verified backup first', () => {
  it('backs up (encrypted) before applying, records the backup id, and lists it', async () => {
    const result = await apply(project.config(db.url, { backup: 'on', backupKey: KEY }));
    expect(result.status).toBe('applied');
    expect(result.backup).toMatchObject({ status: 'taken', encrypted: true });
    const id = result.backup.status === 'taken' ? result.backup.id : '';

    const [audit] = await db.query<{ backup_id: string }>(
      `select backup_id from supabase_migrations.supagate_audit where version = '2'`,
    );
    expect(audit?.backup_id).toBe(id);

    const [manifest] = await listBackups(new DirectoryStore(join(project.dir, '.supagate/backups')));
    expect(manifest?.id).toBe(id);
    // Counted before the migration ran: the column it drops was still there, with both rows.
    expect(manifest?.rowCounts['public.items']).toBe(2);
    expect(manifest?.historyVersion).toBe('1');
    expect(manifest?.verifiedTables).toContain('public.items');
    expect(renderApply(result)).toContain(`Backup ${id}: `);
  });

  it('applies nothing when pg_dump fails', async () => {
    const pgDumpPath = await backupPgDump(
      'echo "pg_dump: error: connection lost" >&2\nprintf partial\nexit 1',
    );
    const before = await snapshot(db);
    const error = await apply(project.config(db.url, { backup: 'on', pgDumpPath })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupagateError);
    expect((error as SupagateError).code).toBe('BACKUP_FAILED');
    expect((error as SupagateError).message).toContain('connection lost');
    expect(await snapshot(db)).toEqual(before);
  });

  it('applies nothing when pg_dump is killed', async () => {
    const pgDumpPath = await backupPgDump('printf partial\nkill -9 $$');
    const before = await snapshot(db);
    const error = await apply(project.config(db.url, { backup: 'on', pgDumpPath })).catch((e: unknown) => e);
    expect((error as SupagateError).code).toBe('BACKUP_FAILED');
    expect(await snapshot(db)).toEqual(before);
  });

  it('says loudly when the backup was turned off', async () => {
    const result = await apply(project.config(db.url, { backup: 'off' }));
    expect(result.backup).toEqual({ status: 'off' });
    expect(renderApply(result)).toContain('BACKUP OFF');
  });

  it('backs up by default from the CLI, and a dry run says where the backup will go', async () => {
    const io = {
      out: '',
      stdout: (t: string) => {
        io.out += t;
      },
      stderr: () => {},
      env: { SUPAGATE_DB_URL: db.url, SUPAGATE_SHADOW_URL: inject('shadowUrl') },
    };
    expect(await runCli(['apply', '--dry-run', '--project-dir', project.dir], io)).toBe(0);
    expect(io.out).toContain('A verified UNENCRYPTED backup goes to the directory store first.');
    io.out = '';
    expect(await runCli(['apply', '--json', '--project-dir', project.dir], io)).toBe(0);
    expect(JSON.parse(io.out).backup.status).toBe('taken');
    io.out = '';
    expect(await runCli(['backups', 'list', '--json', '--project-dir', project.dir], io)).toBe(0);
    expect(JSON.parse(io.out).backups).toHaveLength(1);
  });
});
