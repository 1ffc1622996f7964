import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { plan } from '../src/core/commands/plan.js';
import type { EmbeddedServer } from '../src/core/db/embedded.js';
import { createShadowDatabase } from '../src/core/db/shadow.js';
import { startCronServer } from './harness/cron-server.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * pg_cron can only be created in the database named by `cron.database_name` (`postgres` on
 * Supabase's image). On a shadow server declared disposable, the shadow database takes that
 * name; elsewhere nothing changes.
 */
let cronServer: EmbeddedServer;
let db: TestDatabase;
let project: TestProject | undefined;

beforeAll(async () => {
  cronServer = await startCronServer();
});
afterAll(async () => {
  await cronServer?.stop();
});
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await db.drop();
});

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

const CRON_MIGRATIONS = {
  '1_events':
    'create table public.events (id bigint primary key, created_at timestamptz not null default now());',
  '2_cron': `create extension if not exists pg_cron with schema pg_catalog;
select cron.schedule('nightly-cleanup', '0 3 * * *', $$delete from public.events where created_at < now() - interval '30 days'$$);`,
};

async function databasesOf(server: EmbeddedServer): Promise<{ name: string; owner: string }[]> {
  return query(
    server.urlFor('template1'),
    `SELECT datname AS name, pg_get_userbyid(datdba) AS owner FROM pg_database
      WHERE datname = 'postgres' OR datname LIKE 'supagate\\_shadow\\_%' ORDER BY datname`,
  );
}

describe('pg_cron on a shadow server whose cron.database_name is postgres', () => {
  it('plans a pg_cron migration in the cron database of a disposable server, and leaves the server as found', async () => {
    const before = await databasesOf(cronServer);
    expect(before).toEqual([{ name: 'postgres', owner: 'supabase_admin' }]);
    project = await createProject(migrations(CRON_MIGRATIONS));
    const result = await plan(project.config(db.url, { shadowUrl: cronServer.url, shadowDisposable: true }));
    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('planned');
    expect(result.diff.changes).toContainEqual(
      expect.objectContaining({ kind: 'cron job', id: 'nightly-cleanup', action: 'added' }),
    );
    expect(result.diff.changes).toContainEqual(
      expect.objectContaining({ kind: 'table', id: 'public.events', action: 'added' }),
    );
    expect(await databasesOf(cronServer)).toEqual(before);
    // Created again empty: no pg_cron, no table of the shadow.
    const [left] = await query<{ extensions: number; tables: number }>(
      cronServer.url,
      `SELECT (SELECT count(*)::int FROM pg_extension WHERE extname = 'pg_cron') AS extensions,
              (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public') AS tables`,
    );
    expect(left).toEqual({ extensions: 0, tables: 0 });
  });

  it('fails at the migration with pg_cron’s refusal when the server is not declared disposable', async () => {
    project = await createProject(migrations(CRON_MIGRATIONS));
    const result = await plan(project.config(db.url, { shadowUrl: cronServer.url }));
    expect(result.status).toBe('failed');
    // pg_cron's own refusal, at the migration's line: a problem of the shadow server (exit 1),
    // with the way out.
    expect(result.failure).toMatchObject({
      stage: 'migration',
      file: 'supabase/migrations/2_cron.sql',
      line: 1,
    });
    expect(result.failure?.kind).toBe('environment');
    expect(result.failure?.hint).toContain('--shadow-disposable');
    expect(result.failure?.hint).toContain('cron.database_name (postgres)');
    expect(result.failure?.message).toMatch(/can only create extension in database postgres/);
    expect(await databasesOf(cronServer)).toEqual([{ name: 'postgres', owner: 'supabase_admin' }]);
  });

  it('tells the shadow the server’s cron database, and takes its name only when disposable', async () => {
    const kept = await createShadowDatabase({ shadowUrl: cronServer.url });
    try {
      expect(kept.cronDatabase).toBe('postgres');
      expect(new URL(kept.url).pathname).toMatch(/^\/supagate_shadow_/);
    } finally {
      await kept.dispose();
    }
    const taken = await createShadowDatabase({ shadowUrl: cronServer.url, disposable: true });
    try {
      expect(taken.cronDatabase).toBe('postgres');
      expect(new URL(taken.url).pathname).toBe('/postgres');
      expect(new URL(taken.adminUrl).pathname).toBe('/postgres');
      // The shadow is new: none of the server's own database is left in it.
      const [owner] = await query<{ owner: string }>(
        taken.url,
        'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()',
      );
      expect(owner?.owner).toBe('postgres');
      expect(await taken.standInRole('supagate_cron_stand_in')).toBe(true);
    } finally {
      await taken.dispose();
    }
    expect(await databasesOf(cronServer)).toEqual([{ name: 'postgres', owner: 'supabase_admin' }]);
    expect(
      await query(cronServer.url, `SELECT 1 FROM pg_roles WHERE rolname = 'supagate_cron_stand_in'`),
    ).toEqual([]);
  });

  it('refuses a disposable server on production’s cluster before dropping anything', async () => {
    await query(cronServer.url, 'CREATE TABLE public.production_marker (id int)');
    try {
      const error = await createShadowDatabase({
        shadowUrl: cronServer.url,
        disposable: true,
        productionUrl: cronServer.url,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SHADOW_IS_PRODUCTION' });
      expect(await query(cronServer.url, `SELECT to_regclass('public.production_marker') AS t`)).toEqual([
        { t: 'production_marker' },
      ]);
    } finally {
      await query(cronServer.url, 'DROP TABLE IF EXISTS public.production_marker');
    }
  });

  it('keeps a generated name on a disposable server without pg_cron', async () => {
    const shadow = await createShadowDatabase({ shadowUrl: inject('shadowUrl'), disposable: true });
    try {
      expect(shadow.cronDatabase).toBeUndefined();
      expect(new URL(shadow.url).pathname).toMatch(/^\/supagate_shadow_/);
    } finally {
      await shadow.dispose();
    }
    project = await createProject(migrations({ '1_events': CRON_MIGRATIONS['1_events'] }));
    const result = await plan(project.config(db.url, { shadowDisposable: true }));
    expect(result.status).toBe('planned');
    const [postgres] = await query<{ n: number }>(
      inject('shadowUrl'),
      `SELECT count(*)::int AS n FROM pg_database WHERE datname = 'postgres'`,
    );
    expect(postgres?.n).toBe(1);
  });
});
