import pg from 'pg';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { plan } from '../src/core/commands/plan.js';
import { settingAssignment } from '../src/core/db/settings.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

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

async function clusterWideSettings(serverUrl: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT setrole::regrole::text AS role, setconfig FROM pg_db_role_setting
        WHERE setdatabase = 0 AND setrole <> 0 AND setrole::regrole::text ~ '^(postgres|supagate_migrator_.*)$'`,
    );
    return rows;
  } finally {
    await client.end();
  }
}

describe('role and database settings in the shadow', () => {
  it('carries search_path so unqualified extension functions resolve as in production', async () => {
    // Supabase's setting, scoped to the test database so other tests are unaffected.
    await db.query(
      `ALTER ROLE postgres IN DATABASE ${db.name} SET search_path = "$user", public, extensions`,
    );
    await db.query(`ALTER DATABASE ${db.name} SET statement_timeout = '5min'`);
    const before = await clusterWideSettings(inject('shadowUrl'));
    project = await createProject(
      migrations({
        '1_tokens':
          'create table public.tokens (id bigint primary key, token bytea default gen_random_bytes(16));\nalter table public.tokens enable row level security;',
      }),
    );
    const result = await plan(project.config(db.url));
    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('planned');
    expect(JSON.stringify(result)).toContain('public.tokens');
    expect((await apply(project.config(db.url))).status).toBe('applied');
    const [row] = await db.query<{ n: number }>(
      `INSERT INTO public.tokens (id) VALUES (1) RETURNING octet_length(token) AS n`,
    );
    expect(row?.n).toBe(16);
    expect(await clusterWideSettings(inject('shadowUrl'))).toEqual(before);
  });

  it('copies only allow-listed settings, and a list as names', () => {
    expect(settingAssignment('search_path="$user", public, extensions')).toBe(
      'search_path = "$user", public, extensions',
    );
    expect(settingAssignment('statement_timeout=8s')).toBe(`statement_timeout = '8s'`);
    expect(settingAssignment('role=postgres')).toBeUndefined();
    expect(settingAssignment('session_preload_libraries=auto_explain')).toBeUndefined();
    expect(settingAssignment('pgrst.db_schemas=public')).toBeUndefined();
    expect(settingAssignment('search_path=public; drop table x')).toBeUndefined();
  });
});
