import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { apply } from '../src/core/commands/apply.js';
import { type RepairResult, repair } from '../src/core/commands/repair.js';
import { status } from '../src/core/commands/status.js';
import type { ConfigInput } from '../src/core/config.js';
import { ADVISORY_LOCK_KEYS } from '../src/core/db/lock.js';
import { SupagateError } from '../src/core/errors.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { type ExactState, exactState } from './harness/exact.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * Each way history and files disagree, explained by status; `repair` proposes the minimal
 * history change, applies it only with the fingerprint it showed, and changes nothing but
 * history rows (and the backup of them). Production is a small Supabase app applied by
 * supagate, then changed from the dashboard as users do.
 */
const BASE = `create table public.profiles (id uuid primary key references auth.users (id) on delete cascade, username text);
alter table public.profiles enable row level security;
create policy "own profile" on public.profiles for select to authenticated using ((select auth.uid()) = id);`;
const TODOS = `create table public.todos (id bigint generated always as identity primary key, user_id uuid not null default auth.uid(), title text not null);
alter table public.todos enable row level security;
`;
const HISTORY = 'supabase_migrations.schema_migrations';

let db: TestDatabase;
let project: TestProject;

beforeEach(async () => {
  db = await createTestDatabase();
  project = await createProject(migrations({ '20240101000000_profiles': BASE }));
  const applied = await apply(project.config(db.url));
  if (applied.status !== 'applied') throw new Error(`base not applied: ${applied.status}`);
  await db.query(
    `insert into auth.users (id, email) values ('00000000-0000-0000-0000-000000000001', 'a@example.com')`,
  );
  await db.query(`insert into public.profiles values ('00000000-0000-0000-0000-000000000001', 'ada')`);
});
afterEach(async () => {
  await project.cleanup();
  await db.drop();
});

/** The todos migration run from the dashboard (or an agent): SQL applied, history written under its own version. */
async function appliedFromDashboard(version: string, statements: string[] | null): Promise<void> {
  await db.query(TODOS);
  await db.query(`insert into ${HISTORY} (version, name, statements) values ($1, 'todos', $2)`, [
    version,
    statements,
  ]);
}

/** Everything but history rows: the schema as pg_dump writes it and every other table's content. */
function outsideHistory(state: ExactState): ExactState {
  const tables = Object.fromEntries(
    Object.entries(state.tables).filter(
      ([table]) => table !== HISTORY && table !== 'supabase_migrations.supagate_history_backups',
    ),
  );
  const schema = state.schema
    .split(/\n\n(?=--\n-- Name: )/)
    .filter((block) => !block.includes('supagate_history_backups'))
    .join('\n\n');
  return { schema, tables };
}

function config(overrides: ConfigInput = {}) {
  return project.config(db.url, overrides);
}

describe('status explains each way history and files disagree', () => {
  it('a dashboard-applied migration: both versions point at each other', async () => {
    await appliedFromDashboard('20240301120000', [TODOS]);
    await project.write('supabase/migrations/20240305090000_todos.sql', TODOS);
    const found = await status(config());
    expect(found.entries.find((e) => e.version === '20240301120000')?.mismatch).toEqual({
      kind: 'applied-as-other-version',
      historyVersion: '20240301120000',
      file: { version: '20240305090000', path: 'supabase/migrations/20240305090000_todos.sql' },
    });
    expect(found.entries.find((e) => e.version === '20240305090000')?.mismatch?.kind).toBe(
      'applied-as-other-version',
    );
    expect(found.problems.map((p) => p.code)).toEqual(['HISTORY_APPLIED_AS_OTHER_VERSION']);
    expect(found.problems[0]?.hint).toContain('supagate repair');
  });

  it('a renamed file, a copied file, a version with no file, with and without stored statements', async () => {
    await project.remove('supabase/migrations/20240101000000_profiles.sql');
    await project.write('supabase/migrations/20240101000000_user_profiles.sql', BASE);
    await project.write('supabase/migrations/20240401000000_profiles_again.sql', BASE);
    await db.query(
      `insert into ${HISTORY} (version, name, statements) values ('20240201000000', 'billing', '{"create table x ()"}')`,
    );
    await db.query(`insert into ${HISTORY} (version, name) values ('20240202000000', 'from_another_tool')`);
    const found = await status(config());
    const byVersion = new Map(found.entries.map((e) => [e.version, e]));
    expect(byVersion.get('20240101000000')?.mismatch).toEqual({ kind: 'renamed', historyName: 'profiles' });
    expect(byVersion.get('20240401000000')?.mismatch).toEqual({
      kind: 'duplicate-of-applied',
      appliedVersion: '20240101000000',
    });
    expect(byVersion.get('20240201000000')?.mismatch).toEqual({ kind: 'no-file', statementsStored: true });
    expect(byVersion.get('20240202000000')?.mismatch).toEqual({ kind: 'no-file', statementsStored: false });
    const messages = Object.fromEntries(found.problems.map((p) => [`${p.code}:${p.version}`, p.message]));
    expect(messages['HISTORY_NAME_DIFFERS:20240101000000']).toContain('under the name "profiles"');
    expect(messages['HISTORY_DUPLICATE_CONTENT:20240401000000']).toContain('runs them a second time');
    expect(messages['HISTORY_MISSING_LOCAL:20240201000000']).toContain('its statements match no local file');
    expect(messages['HISTORY_MISSING_LOCAL:20240202000000']).toContain('history stores no statements');
    expect(found.ok).toBe(true);
  });
});

describe('supagate repair', () => {
  it('moves a dashboard-applied version to its file, after backing up history; status is then clean', async () => {
    await appliedFromDashboard('20240301120000', [`${TODOS.replace(/ /g, '  ')}`]);
    await project.write('supabase/migrations/20240305090000_todos.sql', TODOS);
    const before = await exactState(db);
    const proposed = await repair(config());
    expect(proposed).toMatchObject({
      status: 'proposed',
      actions: [
        {
          kind: 'move',
          from: '20240301120000',
          to: '20240305090000',
          name: 'todos',
          path: 'supabase/migrations/20240305090000_todos.sql',
        },
      ],
      sql: [
        `UPDATE ${HISTORY} SET version = '20240305090000', name = 'todos' WHERE version = '20240301120000';`,
      ],
    });
    expect(proposed.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    // Proposing writes nothing.
    expect(await exactState(db)).toEqual(before);

    const repaired = await repair(config(), { confirm: proposed.fingerprint });
    expect(repaired.status).toBe('repaired');
    expect(repaired.problems).toEqual([]);
    const after = await status(config());
    expect(after.ok).toBe(true);
    expect(after.problems).toEqual([]);
    expect(after.pending).toEqual([]);

    const now = await exactState(db);
    expect(outsideHistory(now)).toEqual(outsideHistory(before));
    const [kept] = await db.query<{ rows: { version: string; name: string; statements: string[] }[] }>(
      'select rows from supabase_migrations.supagate_history_backups where id = $1',
      [repaired.backupId],
    );
    expect(kept?.rows.map((row) => row.version)).toEqual(['20240101000000', '20240301120000']);
    // Again: nothing left to do.
    expect((await repair(config())).status).toBe('clean');
    // The README's way back gives history exactly as it was.
    await db.query(`begin;
      delete from ${HISTORY};
      insert into ${HISTORY} select * from jsonb_populate_recordset(null::${HISTORY},
        (select rows from supabase_migrations.supagate_history_backups where id = ${Number(repaired.backupId)}));
      commit;`);
    expect((await exactState(db)).tables[HISTORY]).toEqual(before.tables[HISTORY]);
  });

  it('records a renamed file’s name, and with --strict-history removes versions that have no file', async () => {
    await project.remove('supabase/migrations/20240101000000_profiles.sql');
    await project.write('supabase/migrations/20240101000000_user_profiles.sql', BASE);
    await db.query(`insert into ${HISTORY} (version, name) values ('20240202000000', 'deleted_file')`);

    const lenient = await repair(config());
    expect(lenient.actions).toEqual([
      {
        kind: 'rename',
        version: '20240101000000',
        from: 'profiles',
        to: 'user_profiles',
        path: 'supabase/migrations/20240101000000_user_profiles.sql',
      },
    ]);
    expect(lenient.leftAlone.map((item) => item.version)).toEqual(['20240202000000']);

    const strict = await repair(config({ strictHistory: true }));
    expect(strict.actions.map((action) => action.kind)).toEqual(['rename', 'revert']);
    const before = await exactState(db);
    const repaired = await repair(config({ strictHistory: true }), { confirm: strict.fingerprint });
    expect(repaired.status).toBe('repaired');
    expect((await status(config({ strictHistory: true }))).problems).toEqual([]);
    expect(outsideHistory(await exactState(db))).toEqual(outsideHistory(before));
    expect(await db.query(`select version, name from ${HISTORY} order by version`)).toEqual([
      { version: '20240101000000', name: 'user_profiles' },
    ]);
  });

  it('leaves an edited file, a copy and an out-of-order file alone, and says why', async () => {
    await project.write(
      'supabase/migrations/20240101000000_profiles.sql',
      `${BASE}\ncreate index on public.profiles (username);`,
    );
    await project.write(
      'supabase/migrations/20231201000000_early.sql',
      'create table public.early (id int);',
    );
    await project.write('supabase/migrations/20240401000000_copy.sql', BASE);
    const result = await repair(config());
    expect(result.status).toBe('nothing-to-repair');
    expect(result.actions).toEqual([]);
    const reasons = Object.fromEntries(result.leftAlone.map((item) => [item.version, item.reason]));
    expect(reasons['20240101000000']).toContain('changed after it was applied');
    expect(reasons['20231201000000']).toContain('older than the newest applied version');
    expect(reasons['20240401000000']).toContain('repeats applied version 20240101000000');
  });

  it('refuses a fingerprint shown for another database, and changes nothing there', async () => {
    await appliedFromDashboard('20240301120000', [TODOS]);
    await project.write('supabase/migrations/20240305090000_todos.sql', TODOS);
    const proposedHere = await repair(config());

    // Staging: the same app and the same history, another database.
    const staging = await createTestDatabase();
    try {
      const stagingProject = await createProject(migrations({ '20240101000000_profiles': BASE }));
      try {
        await apply(stagingProject.config(staging.url));
        await staging.query(TODOS);
        await staging.query(
          `insert into ${HISTORY} (version, name, statements) values ('20240301120000', 'todos', $1)`,
          [[TODOS]],
        );
        await stagingProject.write('supabase/migrations/20240305090000_todos.sql', TODOS);
        const before = await exactState(staging);
        const refused = await repair(stagingProject.config(staging.url), {
          confirm: proposedHere.fingerprint,
        }).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(SupagateError);
        expect(refused).toMatchObject({ code: 'REPAIR_FINGERPRINT_MISMATCH' });
        expect((refused as SupagateError).message).toContain('Nothing was changed');
        expect(await exactState(staging)).toEqual(before);
      } finally {
        await stagingProject.cleanup();
      }
    } finally {
      await staging.drop();
    }
  });

  it('refuses when history changed after the proposal was shown', async () => {
    await appliedFromDashboard('20240301120000', [TODOS]);
    await project.write('supabase/migrations/20240305090000_todos.sql', TODOS);
    const proposed = await repair(config());
    await db.query(
      `insert into ${HISTORY} (version, name, statements) values ('20240302000000', 'hotfix', '{}')`,
    );
    const before = await exactState(db);
    await expect(repair(config(), { confirm: proposed.fingerprint })).rejects.toMatchObject({
      code: 'REPAIR_FINGERPRINT_MISMATCH',
    });
    expect(await exactState(db)).toEqual(before);
  });

  it('waits for an apply that holds the migration lock, and gives up changing nothing', async () => {
    await appliedFromDashboard('20240301120000', [TODOS]);
    await project.write('supabase/migrations/20240305090000_todos.sql', TODOS);
    const proposed = await repair(config());
    const applying = new pg.Client({ connectionString: db.url });
    await applying.connect();
    try {
      await applying.query('select pg_advisory_lock($1, $2)', [...ADVISORY_LOCK_KEYS]);
      const before = await exactState(db);
      await expect(
        repair(config({ lockWaitMs: 300 }), { confirm: proposed.fingerprint }),
      ).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
      expect(await exactState(db)).toEqual(before);
    } finally {
      await applying.end();
    }
    // Once the other run is done, the same fingerprint still applies.
    expect((await repair(config(), { confirm: proposed.fingerprint })).status).toBe('repaired');
  });

  it('from the CLI: shows the SQL and the fingerprint, and applies only with it', async () => {
    await appliedFromDashboard('20240301120000', [TODOS]);
    await project.write('supabase/migrations/20240305090000_todos.sql', TODOS);
    const io = (out: string[]) => ({
      stdout: (text: string) => out.push(text),
      stderr: () => {},
      env: { SUPAGATE_DB_URL: db.url },
    });
    const shown: string[] = [];
    const args = ['repair', '--project-dir', project.dir];
    expect(await runCli(args, io(shown))).toBe(1);
    const text = shown.join('');
    expect(text).toContain(`UPDATE ${HISTORY} SET version = '20240305090000'`);
    const fingerprint = /--confirm ([0-9a-f]{12})/.exec(text)?.[1] as string;
    expect(fingerprint).toBeDefined();
    expect(text).not.toContain(new URL(db.url).password);

    const wrong: string[] = [];
    expect(await runCli([...args, '--confirm', '000000000000'], io(wrong))).toBe(1);
    expect((await status(config())).ok).toBe(false);

    const json: string[] = [];
    expect(await runCli([...args, '--confirm', fingerprint, '--json'], io(json))).toBe(0);
    const result = JSON.parse(json.join('')) as RepairResult;
    expect(result.status).toBe('repaired');
    expect((await status(config())).ok).toBe(true);
  });
});
