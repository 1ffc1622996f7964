import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { plan } from '../src/core/commands/plan.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/** Files the Supabase CLI runs: supagate plans and applies them with the same effect. */

let db: TestDatabase;
let project: TestProject | undefined;

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

async function projectWith(files: Record<string, string>): Promise<TestProject> {
  project = await createProject(migrations(files));
  return project;
}

async function history(): Promise<unknown[]> {
  return db.query(
    'SELECT version, statements FROM supabase_migrations.schema_migrations ORDER BY version::bigint',
  );
}

const REALTIME = [
  'create table public.messages (id bigint primary key, body text);',
  'alter table public.messages enable row level security;',
  'begin;',
  '  drop publication if exists supabase_realtime;',
  '  create publication supabase_realtime;',
  'commit;',
  'alter publication supabase_realtime add table public.messages;',
].join('\n');

describe('a BEGIN … COMMIT block in the middle of a file (Supabase’s Realtime snippet)', () => {
  it('plans on the shadow, applies with the same effect and records the statements as the CLI does', async () => {
    const p = await projectWith({ '1_realtime': REALTIME });
    const planned = await plan(p.config(db.url, GATE_NEUTRAL));
    expect(planned.failure).toBeUndefined();
    expect(planned.status).toBe('planned');

    const result = await apply(p.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('applied');
    const published = await db.query(
      `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime'`,
    );
    expect(published).toEqual([{ schemaname: 'public', tablename: 'messages' }]);
    expect(await history()).toEqual([
      {
        version: '1',
        statements: [
          'create table public.messages (id bigint primary key, body text)',
          'alter table public.messages enable row level security',
          'begin',
          'drop publication if exists supabase_realtime',
          'create publication supabase_realtime',
          'commit',
          'alter publication supabase_realtime add table public.messages',
        ],
      },
    ]);
  });
});
