import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { drift } from '../src/core/commands/drift.js';
import { plan } from '../src/core/commands/plan.js';
import { rollbackToBackup } from '../src/core/commands/rollback.js';
import { status } from '../src/core/commands/status.js';
import { verify } from '../src/core/commands/verify.js';
import type { ConfigInput } from '../src/core/config.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { exactState } from './harness/exact.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import { createProject, type TestProject } from './harness/project.js';
import { BACKUP_KEY, withoutAudit } from './harness/round-trip.js';

/**
 * A Supabase app written the way real ones are (__fixtures__/apps/ai-notes): unqualified
 * extension functions resolved through the roles' search_path, the sign-up trigger on
 * auth.users, the Realtime publication re-created in a BEGIN/COMMIT block, an empty file,
 * pgvector, pg_net in a trigger function, a Vault secret and a pg_cron job. Its whole life
 * runs on the default shadow (an embedded server started by each command, with stand-ins for
 * the platform extensions): status → plan → apply → verify → drift → rollback.
 */
let db: TestDatabase;
let project: TestProject;
let backupDir: string;

async function appFiles(app: string): Promise<Record<string, string>> {
  const folder = new URL(`../__fixtures__/apps/${app}/supabase/migrations/`, import.meta.url);
  const names = (await readdir(folder)).sort();
  const files: Record<string, string> = {};
  for (const name of names)
    files[`supabase/migrations/${name}`] = await readFile(new URL(name, folder), 'utf8');
  return files;
}

function config(overrides: ConfigInput = {}) {
  return project.config(db.url, {
    ...GATE_NEUTRAL,
    // The default: no shadow server given, so each command starts an embedded one (kept
    // between plans, as by default).
    shadowUrl: undefined,
    shadowCache: true,
    backupStore: 'directory',
    backupDir,
    backupKey: BACKUP_KEY,
    ...overrides,
  });
}

/** Production as on Supabase (the roles' search_path, for this test's database), and the app's files. */
async function setUp(app: string): Promise<void> {
  db = await createTestDatabase();
  await db.query(`ALTER ROLE postgres IN DATABASE ${db.name} SET search_path = "$user", public, extensions`);
  project = await createProject(await appFiles(app));
  backupDir = await mkdtemp(join(tmpdir(), 'supagate-backups-'));
}

afterEach(async () => {
  await project?.cleanup();
  await rm(backupDir, { recursive: true, force: true });
  await db?.drop();
});

describe('a Supabase app using the platform extensions, on the default shadow', () => {
  it('goes through status, plan, apply, verify, drift and rollback', async () => {
    await setUp('ai-notes');
    const before = await exactState(db);

    const pending = await status(config());
    expect(pending.pending).toHaveLength(6);
    // The empty file: a warning, and it will be recorded as applied, as the Supabase CLI does.
    expect(pending.problems.map((p) => `${p.severity} ${p.code} ${p.path}`)).toEqual([
      'warning MIGRATION_EMPTY supabase/migrations/20240303090000_placeholder.sql',
    ]);

    const planned = await plan(config());
    expect(planned.failure, JSON.stringify(planned.failure)).toBeUndefined();
    expect(planned.status).toBe('planned');
    expect(planned.shadow.source).toBe('embedded');
    expect(planned.shadow.standIns.map((s) => s.name)).toEqual([
      'pg_cron',
      'pg_net',
      'supabase_vault',
      'vector',
    ]);
    const changed = planned.diff.changes.map((c) => `${c.kind} ${c.id}`);
    // Triggers are changes of their table: auth.users gains the sign-up trigger.
    expect(changed).toEqual([
      'extension moddatetime',
      'extension pg_cron',
      'extension pg_net',
      'extension supabase_vault',
      'extension vector',
      'table auth.users',
      'table public.note_embeddings',
      'table public.notes',
      'table public.profiles',
      'function public.handle_new_user()',
      'function public.match_notes(extensions.vector, integer)',
      'function public.notify_note_created()',
      'publication supabase_realtime',
      'cron job purge-old-notes',
    ]);
    expect(JSON.stringify(planned.diff)).toContain('on_auth_user_created');
    expect(planned.blocking, planned.blockingReasons.join('\n')).toBe(false);

    const applied = await apply(config({ backup: 'on', verify: 'on' }));
    expect(applied.status, JSON.stringify(applied.failure ?? applied.blockingReasons)).toBe('applied');
    expect(applied.applied).toHaveLength(6);
    const backupId = applied.backup.status === 'taken' ? applied.backup.id : '';

    // The app works in production: sign-up creates a profile, a note queues a webhook.
    await db.query(
      `INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES ('00000000-0000-0000-0000-000000000001', 'ada@example.com', '{"username": "ada"}')`,
    );
    await db.query(
      `INSERT INTO public.notes (owner_id, body) VALUES ('00000000-0000-0000-0000-000000000001', 'hello')`,
    );
    const [queued] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM net.http_request_queue');
    expect(queued?.n).toBe(1);
    const [profile] = await db.query<{ invite: string }>('SELECT invite_code AS invite FROM public.profiles');
    expect(profile?.invite).toMatch(/^[0-9a-f]{18}$/);

    const verified = await verify(config());
    expect(verified.failures).toEqual([]);
    expect(verified.ok).toBe(true);
    const inSync = await drift(config());
    expect(inSync.failure, JSON.stringify(inSync.failure)).toBeUndefined();
    expect(inSync.diff.changes.map((c) => c.id)).toEqual([]);
    expect(inSync.status).toBe('in-sync');

    const rolledBack = await rollbackToBackup(config({ backup: 'on' }), {
      backupId,
      confirm: db.name,
      discardWritesSinceBackup: true,
    });
    expect(rolledBack.status).toBe('rolled-back');
    const after = await exactState(db);
    expect(withoutAudit(after, false).schema).toBe(withoutAudit(before, false).schema);
    // auth.users is Supabase's, outside what a backup restores: the user who signed up since stays.
    const { 'auth.users': usersAfter, ...tablesAfter } = withoutAudit(after, false).tables;
    const { 'auth.users': usersBefore, ...tablesBefore } = withoutAudit(before, false).tables;
    expect(tablesAfter).toEqual(tablesBefore);
    expect(usersAfter).not.toEqual(usersBefore);
    expect(await db.query('SELECT email FROM auth.users')).toEqual([{ email: 'ada@example.com' }]);
    expect((await status(config())).pending).toHaveLength(6);
  });
});

describe('a history that starts with `supabase db dump`’s remote_schema file, on the default shadow', () => {
  it('plans, applies, verifies, is in sync and rolls back', async () => {
    await setUp('todo-dump');
    const before = await exactState(db);
    expect((await status(config())).pending).toEqual(['20231015120000', '20231101090000']);

    const planned = await plan(config());
    expect(planned.failure, JSON.stringify(planned.failure)).toBeUndefined();
    expect(planned.diff.changes.map((c) => `${c.action} ${c.kind} ${c.id}`)).toEqual(
      expect.arrayContaining([
        'added extension pg_graphql',
        'added extension pg_net',
        'added extension pgjwt',
        'added extension pgsodium',
        'added extension supabase_vault',
        'added type public.todo_status',
        'added table public.todos',
        'added function public.set_updated_at()',
        'changed publication supabase_realtime',
      ]),
    );
    expect(planned.shadow.standIns.map((s) => s.name)).toEqual([
      'pg_graphql',
      'pg_net',
      'pgjwt',
      'pgsodium',
      'supabase_vault',
    ]);

    const applied = await apply(config({ backup: 'on', verify: 'on' }));
    expect(applied.status, JSON.stringify(applied.failure ?? applied.blockingReasons)).toBe('applied');
    const backupId = applied.backup.status === 'taken' ? applied.backup.id : '';
    expect((await verify(config())).failures).toEqual([]);
    const inSync = await drift(config());
    expect(inSync.failure, JSON.stringify(inSync.failure)).toBeUndefined();
    expect(inSync.diff.changes.map((c) => c.id)).toEqual([]);

    const rolledBack = await rollbackToBackup(config({ backup: 'on' }), { backupId, confirm: db.name });
    expect(rolledBack.status).toBe('rolled-back');
    const after = await exactState(db);
    expect(withoutAudit(after, false)).toEqual(withoutAudit(before, false));
  });
});
