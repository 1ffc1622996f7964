import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { plan } from '../src/core/commands/plan.js';
import { status } from '../src/core/commands/status.js';
import { renderPlanMarkdown } from '../src/core/report/markdown.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * History matched to files by content: a migration applied from the dashboard (or by an agent,
 * or before a rebase renamed it) is in history under a version that has no file, with exactly
 * the statements of a pending file. Applying that file would run them twice: status and plan
 * say so, name both versions and the repair, and nothing runs.
 */
const BASE =
  'create table public.teams (id bigint primary key, name text not null);\nalter table public.teams enable row level security;';
const NOTES = [
  'create table public.notes (id bigint generated always as identity primary key, body text not null)',
  'alter table public.notes enable row level security',
];

let db: TestDatabase;
let project: TestProject;

beforeEach(async () => {
  db = await createTestDatabase();
  project = await createProject(migrations({ '20240101000000_base': BASE }));
  const applied = await apply(project.config(db.url));
  if (applied.status !== 'applied') throw new Error(`base not applied: ${applied.status}`);
  // Applied from the dashboard: the SQL run, and history written as the Supabase CLI stores it
  // (one piece per statement, its own white space).
  for (const statement of NOTES) await db.query(statement);
  await db.query(
    'insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)',
    ['20240301120000', 'notes', NOTES.map((s) => `${s.replace(/ /g, '  ')}\n`)],
  );
});
afterEach(async () => {
  await project.cleanup();
  await db.drop();
});

describe('history matched to files by content', () => {
  it('says a pending file was applied under another version, and the plan blocks before any shadow runs', async () => {
    await project.write('supabase/migrations/20240305090000_add_notes.sql', `${NOTES.join(';\n')};\n`);
    const found = await status(project.config(db.url));
    const problem = found.problems.find((p) => p.code === 'HISTORY_APPLIED_AS_OTHER_VERSION');
    expect(problem).toMatchObject({
      severity: 'error',
      path: 'supabase/migrations/20240305090000_add_notes.sql',
      version: '20240305090000',
    });
    expect(problem?.message).toContain('already applied as version 20240301120000 (notes)');
    expect(problem?.hint).toContain('supagate repair');
    expect(problem?.hint).toContain('supabase migration repair --status applied 20240305090000');
    expect(found.problems.some((p) => p.code === 'HISTORY_MISSING_LOCAL')).toBe(false);

    const before = await snapshot(db);
    const planned = await plan(project.config(db.url));
    expect(planned.status).toBe('history-problem');
    expect(planned.shadow.source).toBe('none');
    expect(await snapshot(db)).toEqual(before);
    // The comment says what to do about history: no finding to accept with an allow comment.
    const comment = renderPlanMarkdown(planned);
    expect(comment).toContain('the migration history and the files disagree');
    expect(comment).toContain('`supagate repair` proposes the history change');
    expect(comment).not.toContain('supagate:allow');
  });

  it('keeps a file whose statements differ pending, and the unmatched version a warning', async () => {
    await project.write(
      'supabase/migrations/20240305090000_add_notes.sql',
      `${NOTES.join(';\n')};\ncreate index notes_body_idx on public.notes (body);\n`,
    );
    const found = await status(project.config(db.url));
    expect(found.problems.map((p) => p.code)).toEqual(['HISTORY_MISSING_LOCAL']);
    expect(found.entries.find((e) => e.version === '20240305090000')?.state).toBe('pending');
  });
});
