import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { apply } from '../../src/core/commands/apply.js';
import { type RollbackResult, rollbackToBackup } from '../../src/core/commands/rollback.js';
import { status } from '../../src/core/commands/status.js';
import type { ConfigInput } from '../../src/core/config.js';
import type { TestDatabase } from './db.js';
import { type ExactState, exactState } from './exact.js';
import { GATE_NEUTRAL } from './gate.js';
import { createProject, migrations, type TestProject } from './project.js';

export const BACKUP_KEY = 'b'.repeat(64);

/**
 * The state a restore must give back: everything `exactState` sees except the audit trail,
 * which is append-only by design (it keeps the apply and records the restore), and the
 * schema that holds it when the backup was taken before there was any history.
 */
export function withoutAudit(state: ExactState, historySchemaBefore: boolean): ExactState {
  const sections = state.schema.split(/\n(?=--\n-- Name: )/);
  const kept = sections.filter(
    (section) =>
      !/supagate_audit/.test(section) &&
      (historySchemaBefore || !/^--\n-- Name: supabase_migrations; Type: SCHEMA/.test(section)),
  );
  const tables = Object.fromEntries(
    Object.entries(state.tables).filter(([name]) => !name.endsWith('.supagate_audit')),
  );
  return { schema: kept.join('\n'), tables };
}

export interface RoundTrip {
  project: TestProject;
  backupId: string;
  before: ExactState;
  rollback: RollbackResult;
  config(overrides?: ConfigInput): ReturnType<TestProject['config']>;
  cleanup(): Promise<void>;
}

/**
 * The round trip of the restore's promise: `existing` applied (no backup), `seed` run, the
 * exact state read, `underTest` applied with a backup, that backup restored; then the state
 * must be the one read before, and the migrations under test pending again.
 */
export async function roundTrip(
  db: TestDatabase,
  files: { existing?: Record<string, string>; seed?: string; underTest: Record<string, string> },
): Promise<RoundTrip> {
  const project = await createProject(migrations(files.existing ?? {}));
  const backupDir = await mkdtemp(join(tmpdir(), 'supagate-backups-'));
  const config = (overrides: ConfigInput = {}) =>
    project.config(db.url, {
      ...GATE_NEUTRAL,
      backup: 'on',
      backupStore: 'directory',
      backupDir,
      backupKey: BACKUP_KEY,
      ...overrides,
    });
  if (files.existing) expect((await apply(config({ backup: 'off' }))).status).toBe('applied');
  if (files.seed) await db.query(files.seed);
  const before = await exactState(db);
  const historyBefore = Object.keys(before.tables).some((t) => t.startsWith('supabase_migrations.'));

  for (const [path, sql] of Object.entries(migrations(files.underTest))) await project.write(path, sql);
  const applied = await apply(config());
  expect(applied.status, JSON.stringify(applied.failure ?? applied)).toBe('applied');
  const backupId = applied.backup.status === 'taken' ? applied.backup.id : '';
  expect(backupId).not.toBe('');

  const rollback = await rollbackToBackup(config(), {
    backupId,
    confirm: db.name,
    discardWritesSinceBackup: true,
  });
  expect(rollback.status).toBe('rolled-back');
  // Proved before the commit: the schema model's fingerprint is the one the backup recorded.
  expect(rollback.restore?.schema).toBe('matches');
  const after = await exactState(db);
  expect(withoutAudit(after, historyBefore).schema).toBe(withoutAudit(before, historyBefore).schema);
  expect(withoutAudit(after, historyBefore).tables).toEqual(withoutAudit(before, historyBefore).tables);

  const now = await status(config());
  expect(now.pending).toEqual(Object.keys(files.underTest).map((name) => name.split('_')[0]));
  return {
    project,
    backupId,
    before,
    rollback,
    config,
    cleanup: async () => {
      await project.cleanup();
      await rm(backupDir, { recursive: true, force: true });
    },
  };
}
