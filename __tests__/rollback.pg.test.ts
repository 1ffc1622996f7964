import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { apply } from '../src/core/commands/apply.js';
import { rollback, rollbackToBackup } from '../src/core/commands/rollback.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

let db: TestDatabase;
let project: TestProject;

beforeEach(async () => {
  db = await createTestDatabase();
  project = await createProject({
    ...migrations({
      '1_base': 'create table public.base (id int primary key);\ninsert into public.base values (1);',
      '2_tags': 'create table public.tags (id int primary key);',
      '3_note':
        'alter table public.base add column note text;\ncreate index concurrently base_note_idx on public.base (note);',
    }),
    'supabase/rollbacks/2_tags.sql': 'drop table public.tags;',
    'supabase/rollbacks/3_note.sql':
      'drop index concurrently if exists public.base_note_idx;\nalter table public.base drop column note;',
  });
  expect((await apply(project.config(db.url, GATE_NEUTRAL))).status).toBe('applied');
});
afterEach(async () => {
  await project.cleanup();
  await db.drop();
});

async function versions(): Promise<string[]> {
  const rows = await db.query<{ version: string }>(
    'select version from supabase_migrations.schema_migrations order by version',
  );
  return rows.map((r) => r.version);
}

describe('rollback --to', () => {
  it('runs the down files newest first, each with the removal of its history row, after a backup', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      const notified = new Promise<pg.Notification>((resolve) => listener.on('notification', resolve));
      await listener.query('LISTEN pgrst');
      const result = await rollback(project.config(db.url, { ...GATE_NEUTRAL, backup: 'on' }), {
        to: '1',
        confirm: db.name,
      });
      expect(result.status).toBe('rolled-back');
      expect(result.reverted.map((r) => [r.version, r.path, r.mode])).toEqual([
        ['3', 'supabase/rollbacks/3_note.sql', 'non-atomic'],
        ['2', 'supabase/rollbacks/2_tags.sql', 'transaction'],
      ]);
      expect(result.backup.status).toBe('taken');
      expect((await notified).payload).toBe('reload schema');
    } finally {
      await listener.end();
    }
    expect(await versions()).toEqual(['1']);
    const tables = await db.query<{ t: string }>(
      `select tablename as t from pg_tables where schemaname = 'public' order by 1`,
    );
    expect(tables.map((r) => r.t)).toEqual(['base']);
    const columns = await db.query<{ c: string }>(
      `select column_name as c from information_schema.columns where table_name = 'base' order by ordinal_position`,
    );
    expect(columns.map((r) => r.c)).toEqual(['id']);
    const audit = await db.query(
      `select version, outcome from supabase_migrations.supagate_audit order by id`,
    );
    expect(audit.slice(-2)).toEqual([
      { version: '3', outcome: 'rolled_back' },
      { version: '2', outcome: 'rolled_back' },
    ]);
    // The rolled-back migrations are pending again and apply cleanly.
    const again = await apply(project.config(db.url, GATE_NEUTRAL));
    expect(again.applied.map((m) => m.version)).toEqual(['2', '3']);
  });

  it('refuses before changing anything when a down file is missing, naming it', async () => {
    await project.remove('supabase/rollbacks/2_tags.sql');
    const before = await snapshot(db);
    const error = await rejection(
      rollback(project.config(db.url, GATE_NEUTRAL), { to: '1', confirm: db.name }),
    );
    expect(error.code).toBe('ROLLBACK_MISSING_DOWN');
    expect(error.message).toContain('supabase/rollbacks/2_tags.sql');
    expect(await snapshot(db)).toEqual(before);
  });

  it('needs --confirm with the database name', async () => {
    const before = await snapshot(db);
    const missing = await rejection(rollback(project.config(db.url, GATE_NEUTRAL), { to: '1' }));
    expect(missing.code).toBe('CONFIRMATION_REQUIRED');
    expect(missing.hint).toContain(`--confirm ${db.name}`);
    const wrong = await rejection(
      rollback(project.config(db.url, GATE_NEUTRAL), { to: '1', confirm: 'production' }),
    );
    expect(wrong.message).toContain('does not match');
    expect(await snapshot(db)).toEqual(before);
  });

  it('lists the down files a dry run would run, newest first, and changes nothing', async () => {
    const before = await snapshot(db);
    const result = await rollback(project.config(db.url, GATE_NEUTRAL), { to: '1', dryRun: true });
    expect(result.status).toBe('dry-run');
    expect(result.plan.map((p) => p.path)).toEqual([
      'supabase/rollbacks/3_note.sql',
      'supabase/rollbacks/2_tags.sql',
    ]);
    expect(await snapshot(db)).toEqual(before);
  });

  it('stops at a failing down file with its location; the ones before it stay rolled back', async () => {
    await project.write('supabase/rollbacks/2_tags.sql', 'drop table public.tags;\ndrop table public.nope;');
    const result = await rollback(project.config(db.url, GATE_NEUTRAL), { to: '1', confirm: db.name });
    expect(result.status).toBe('failed');
    expect(result.reverted.map((r) => r.version)).toEqual(['3']);
    expect(result.failure).toMatchObject({
      path: 'supabase/rollbacks/2_tags.sql',
      line: 2,
      sqlstate: '42P01',
    });
    expect(await versions()).toEqual(['1', '2']);
    const [tags] = await db.query(`select to_regclass('public.tags') is not null as present`);
    expect(tags).toEqual({ present: true });
  });

  it('verifies the result: a down file that loses rows from a table that stays fails, one that only drops its table passes', async () => {
    const verifying = { ...GATE_NEUTRAL, verify: 'on' as const };
    await project.write(
      'supabase/rollbacks/3_note.sql',
      'drop index concurrently if exists public.base_note_idx;\nalter table public.base drop column note;\ndelete from public.base;',
    );
    const lossy = await rollback(project.config(db.url, verifying), { to: '2', confirm: db.name });
    expect(lossy.status).toBe('failed');
    expect(lossy.verification?.status).toBe('failed');
    const base =
      lossy.verification?.status === 'failed'
        ? lossy.verification.counts.tables.find((t) => t.table === 'public.base')
        : undefined;
    expect(base).toMatchObject({ before: 1, after: 0, status: 'lost-rows' });

    const clean = await rollback(project.config(db.url, verifying), { to: '1', confirm: db.name });
    expect(clean.status).toBe('rolled-back');
    expect(clean.verification?.status).toBe('passed');
  });

  it('rejects a version that is not applied', async () => {
    const error = await rejection(
      rollback(project.config(db.url, GATE_NEUTRAL), { to: '7', confirm: db.name }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('Version 7 is not applied');
  });

  it('works from the CLI', async () => {
    let out = '';
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: (t: string) => {
        out += t;
      },
      env: { SUPAGATE_DB_URL: db.url },
    };
    const code = await runCli(
      ['rollback', '--to', '2', '--confirm', db.name, '--safety-backup', 'off', '--project-dir', project.dir],
      io,
    );
    expect(code).toBe(0);
    expect(out).toContain('Rolled back 1 migration to 2.');
    expect(out).toContain('BACKUP OFF');
    expect(await versions()).toEqual(['1', '2']);
  });
});

describe('rollback --backup', () => {
  it('restores the backup apply took: rows, columns and history come back, after a safety backup', async () => {
    await db.query(`insert into public.base values (2), (3)`);
    await project.write(
      'supabase/migrations/4_drop.sql',
      '-- supagate:allow drop-column: the test restores it from the backup apply takes\nalter table public.base drop column note;\ndelete from public.base where id > 1;',
    );
    const applied = await apply(project.config(db.url, { ...GATE_NEUTRAL, backup: 'on' }));
    expect(applied.backup.status).toBe('taken');
    const backupId = applied.backup.status === 'taken' ? applied.backup.id : '';
    expect(await versions()).toEqual(['1', '2', '3', '4']);

    const dry = await rollbackToBackup(project.config(db.url, GATE_NEUTRAL), { backupId, dryRun: true });
    expect(dry.status).toBe('dry-run');
    expect(dry.restore?.steps.length).toBeGreaterThan(0);
    expect(await versions()).toEqual(['1', '2', '3', '4']);

    const refused = await rejection(rollbackToBackup(project.config(db.url, GATE_NEUTRAL), { backupId }));
    expect(refused.code).toBe('CONFIRMATION_REQUIRED');

    const result = await rollbackToBackup(project.config(db.url, { ...GATE_NEUTRAL, backup: 'on' }), {
      backupId,
      confirm: db.name,
    });
    expect(result).toMatchObject({ mode: 'backup', status: 'rolled-back', backupId });
    expect(result.restore?.ok).toBe(true);
    expect(result.backup.status).toBe('taken');
    expect(await versions()).toEqual(['1', '2', '3']);
    const rows = await db.query<{ id: number }>('select id from public.base order by id');
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
    const [note] = await db.query(
      `select count(*)::int as n from information_schema.columns where table_name = 'base' and column_name = 'note'`,
    );
    expect(note).toEqual({ n: 1 });
  });

  it('says which backup it cannot find', async () => {
    const error = await rejection(
      rollbackToBackup(project.config(db.url, GATE_NEUTRAL), {
        backupId: '20240101T000000000Z-00000000',
        confirm: db.name,
      }),
    );
    expect(error.code).toBe('BACKUP_NOT_FOUND');
    expect(error.message).toContain('20240101T000000000Z-00000000');
  });
});
