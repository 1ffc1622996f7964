import { afterAll, beforeAll, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { status } from '../src/core/commands/status.js';
import { runAction } from './harness/action.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { exactState } from './harness/exact.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * repair from the Action (workflow_dispatch), where only the workflow holds the database's URL:
 * a run without `confirm` shows the proposal and its fingerprint and changes nothing; a run
 * with a wrong fingerprint fails and changes nothing; one with the shown fingerprint repairs.
 */
const BASE =
  'create table public.teams (id bigint primary key, name text not null);\nalter table public.teams enable row level security;\n';
const NOTES =
  'create table public.notes (id bigint primary key, body text);\nalter table public.notes enable row level security;\n';

let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  db = await createTestDatabase();
  project = await createProject(migrations({ '20240101000000_teams': BASE }));
  const applied = await apply(project.config(db.url));
  if (applied.status !== 'applied') throw new Error(`base not applied: ${applied.status}`);
  // Applied from the dashboard under its own version; the file was committed under another.
  await db.query(NOTES);
  await db.query(
    `insert into supabase_migrations.schema_migrations (version, name, statements) values ('20240301000000', 'notes', $1)`,
    [[NOTES]],
  );
  await project.write('supabase/migrations/20240302000000_notes.sql', NOTES);
});
afterAll(async () => {
  await project.cleanup();
  await db.drop();
});

it('proposes without confirm, refuses a wrong fingerprint, repairs with the one it showed', async () => {
  const inputs = { command: 'repair', 'db-url': db.url, 'working-directory': project.dir };
  const before = await exactState(db);

  const proposed = await runAction(inputs);
  expect(proposed.exitCode, proposed.stdout).toBe(0);
  expect(proposed.outputs.repair_status).toBe('proposed');
  const fingerprint = proposed.outputs.fingerprint as string;
  expect(fingerprint).toMatch(/^[0-9a-f]{12}$/);
  expect(proposed.summary).toContain(
    "UPDATE supabase_migrations.schema_migrations SET version = '20240302000000', name = 'notes' WHERE version = '20240301000000';",
  );
  expect(proposed.stdout).toContain(
    `::notice::Proposed 1 history change(s); run again with confirm: ${fingerprint}`,
  );
  expect(await exactState(db)).toEqual(before);

  const refused = await runAction({ ...inputs, confirm: 'ffffffffffff' });
  expect(refused.exitCode).toBe(1);
  expect(refused.stdout).toContain('REPAIR_FINGERPRINT_MISMATCH');
  expect(await exactState(db)).toEqual(before);

  const repaired = await runAction({ ...inputs, confirm: fingerprint });
  expect(repaired.exitCode, repaired.stdout).toBe(0);
  expect(repaired.outputs.repair_status).toBe('repaired');
  expect((await status(project.config(db.url))).ok).toBe(true);
  expect(repaired.summary).not.toContain(decodeURIComponent(new URL(db.url).password));
});
