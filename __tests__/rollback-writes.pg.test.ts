import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { rollbackToBackup } from '../src/core/commands/rollback.js';
import { status } from '../src/core/commands/status.js';
import type { ConfigInput } from '../src/core/config.js';
import { renderRollback } from '../src/core/report/text.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { rejection } from './harness/errors.js';
import { exactState } from './harness/exact.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

const KEY = 'c'.repeat(64);

let db: TestDatabase;
let project: TestProject;
let backupDir: string;
let backupId: string;

const config = (overrides: ConfigInput = {}) =>
  project.config(db.url, { ...GATE_NEUTRAL, backup: 'on', backupDir, backupKey: KEY, ...overrides });

async function notes(): Promise<number[]> {
  const rows = await db.query<{ id: string }>('select id from public.notes order by id');
  return rows.map((row) => Number(row.id));
}

beforeEach(async () => {
  db = await createTestDatabase();
  backupDir = await mkdtemp(join(tmpdir(), 'supagate-backups-'));
  project = await createProject(
    migrations({
      '1_notes':
        'create table public.notes (id bigint generated always as identity primary key, body text);\ninsert into public.notes (body) values ($$a$$), ($$b$$);',
    }),
  );
  expect((await apply(config({ backup: 'off' }))).status).toBe('applied');
  await project.write('supabase/migrations/2_tags.sql', 'create table public.tags (id int primary key);');
  const applied = await apply(config());
  backupId = applied.backup.status === 'taken' ? applied.backup.id : '';
  // The application writes after the apply.
  await db.query(`insert into public.notes (body) values ('c'), ('d'), ('e')`);
});
afterEach(async () => {
  await project.cleanup();
  await rm(backupDir, { recursive: true, force: true });
  await db.drop();
});

describe('rollback --backup and the rows written since the backup', () => {
  it('shows them in the dry run, and refuses without the flag before taking any backup', async () => {
    const dry = await rollbackToBackup(config(), { backupId, dryRun: true });
    expect(dry.restore?.writesSinceBackup).toEqual([
      { table: 'public.notes', backupRows: 2, rows: 5, newRows: 3, by: 'key' },
    ]);
    expect(renderRollback(dry)).toContain('Rows written after the backup, which the restore would discard:');
    expect(renderRollback(dry)).toContain('public.notes: 3 rows');

    const before = await exactState(db);
    const files = await readdir(backupDir);
    const refused = await rejection(rollbackToBackup(config(), { backupId, confirm: db.name }));
    expect(refused.code).toBe('RESTORE_WOULD_LOSE_WRITES');
    expect(refused.message).toContain('public.notes: 3 rows written after the backup');
    expect(refused.hint).toContain('--discard-writes-since-backup');
    expect(await exactState(db)).toEqual(before);
    // Checks before cost: a refused restore takes no safety backup.
    expect(await readdir(backupDir)).toEqual(files);
  });

  it('refuses to discard them when no safety backup would keep them', async () => {
    const before = await exactState(db);
    const refused = await rejection(
      rollbackToBackup(config({ backup: 'off', discardWritesSinceBackup: true }), {
        backupId,
        confirm: db.name,
      }),
    );
    expect(refused.code).toBe('RESTORE_WOULD_LOSE_WRITES');
    expect(refused.hint).toContain('The safety backup is off');
    expect(await exactState(db)).toEqual(before);
  });

  it('a wrong key is found before the safety backup too', async () => {
    const before = await exactState(db);
    const files = await readdir(backupDir);
    const refused = await rejection(
      rollbackToBackup(config({ backupKey: 'd'.repeat(64) }), {
        backupId,
        confirm: db.name,
        discardWritesSinceBackup: true,
      }),
    );
    expect(refused.code).toBe('BACKUP_DECRYPT_FAILED');
    expect(await exactState(db)).toEqual(before);
    expect(await readdir(backupDir)).toEqual(files);
  });

  it('with the flag: discards them, keeps them in the safety backup, hands out no id twice, and the audit records it', async () => {
    const result = await rollbackToBackup(config({ discardWritesSinceBackup: true }), {
      backupId,
      confirm: db.name,
    });
    expect(result.status).toBe('rolled-back');
    expect(result.restore?.revertedVersions).toEqual(['2']);
    const safetyId = result.backup.status === 'taken' ? result.backup.id : '';
    expect(safetyId).not.toBe('');
    const text = renderRollback(result);
    expect(text).toContain(`✓ Restored backup ${backupId} (`);
    expect(text).toContain(
      'schema public (1 table); the rows and policies of storage.buckets, storage.objects; the migration history (the audit trail kept, the restore added to it); migration 2 pending again.',
    );
    expect(text).toContain("schema: matches the backup's fingerprint");
    expect(text).toContain(`They are kept in safety backup ${safetyId}`);
    expect(text).toContain(`supagate rollback --backup ${safetyId}`);
    expect(await notes()).toEqual([1, 2]);
    expect((await status(config())).pending).toEqual(['2']);

    // The identity goes on from what it handed out: no id is reused.
    await db.query(`insert into public.notes (body) values ('f')`);
    expect(await notes()).toEqual([1, 2, 6]);

    // The audit keeps the apply and records the restore.
    const audit = await db.query(
      'select version, outcome, transaction_mode, backup_id from supabase_migrations.supagate_audit order by id',
    );
    expect(audit).toEqual([
      { version: '1', outcome: 'applied', transaction_mode: 'transaction', backup_id: null },
      { version: '2', outcome: 'applied', transaction_mode: 'transaction', backup_id: backupId },
      { version: '2', outcome: 'rolled_back', transaction_mode: 'restore', backup_id: backupId },
    ]);

    // The discarded rows come back from the safety backup.
    const back = await rollbackToBackup(config({ discardWritesSinceBackup: true }), {
      backupId: safetyId,
      confirm: db.name,
    });
    expect(back.status).toBe('rolled-back');
    expect(await notes()).toEqual([1, 2, 3, 4, 5]);
  });
});
