import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cloneSchema } from '../src/core/db/clone.js';
import { startEmbeddedPostgres } from '../src/core/db/embedded.js';
import { findPgTool, libpqEnvironment } from '../src/core/db/pgtools.js';
import { createShadowDatabase } from '../src/core/db/shadow.js';
import { SupagateError } from '../src/core/errors.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** What a schema-only copy must carry over. */
async function shape(url: string): Promise<unknown> {
  const [row] = await query<{ shape: unknown }>(
    url,
    `SELECT json_build_object(
       'tables', (SELECT json_agg(x ORDER BY x) FROM (SELECT format('%I.%I rls=%s', schemaname, tablename, rowsecurity) AS x FROM pg_tables
                   WHERE schemaname IN ('public', 'storage', 'auth')) t),
       'policies', (SELECT json_agg(x ORDER BY x) FROM (SELECT format('%s.%s %s %s', schemaname, tablename, policyname, qual) AS x FROM pg_policies) p),
       'grants', (SELECT json_agg(x ORDER BY x) FROM (SELECT format('%s %s %s', table_name, grantee, privilege_type) AS x
                    FROM information_schema.role_table_grants WHERE table_schema = 'public') g),
       'publication', (SELECT json_agg(tablename ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'supabase_realtime'),
       'buckets', (SELECT json_agg(id ORDER BY id) FROM storage.buckets)
     ) AS shape`,
  );
  return row?.shape;
}

describe('shadow database', () => {
  it('creates a uniquely named database on --shadow-url, owned by postgres, and drops it on dispose', async () => {
    const serverUrl = inject('shadowUrl');
    const shadow = await createShadowDatabase({ shadowUrl: serverUrl });
    expect(shadow.source).toBe('shadow-url');
    const name = new URL(shadow.url).pathname.slice(1);
    expect(name).toMatch(/^supagate_shadow_/);
    const [session] = await query<{ session: string; current: string; owner: string }>(
      shadow.url,
      `SELECT session_user AS session, current_user AS current,
              (SELECT datdba::regrole::text FROM pg_database WHERE datname = current_database()) AS owner`,
    );
    expect(session?.session).toMatch(/^supagate_migrator_[0-9a-f]+$/);
    expect(session).toMatchObject({ current: 'postgres', owner: 'postgres' });
    expect(shadow.migrationUrl).toBe(shadow.url);
    await shadow.dispose();
    const left = await query(
      serverUrl,
      `SELECT datname FROM pg_database WHERE datname = '${name}'
       UNION ALL SELECT rolname FROM pg_roles WHERE rolname = '${session?.session}'`,
    );
    expect(left).toEqual([]);
  });

  it('starts an embedded PostgreSQL when no shadow server is given, and stops it on dispose', async () => {
    const shadow = await createShadowDatabase({ detectLocalSupabase: false });
    expect(shadow.source).toBe('embedded');
    expect(Math.floor(shadow.serverVersion / 10_000)).toBe(15);
    await query(shadow.url, 'CREATE TABLE t (id int)');
    await shadow.dispose();
    await expect(query(shadow.url, 'SELECT 1')).rejects.toThrow();
  });

  it('explains a shadow server whose user cannot create databases', async () => {
    const serverUrl = inject('serverUrl');
    const role = `nocreatedb_${Date.now()}`;
    await query(serverUrl, `CREATE ROLE ${role} LOGIN PASSWORD 'pw-${role}'`);
    try {
      const url = new URL(serverUrl);
      url.username = role;
      url.password = `pw-${role}`;
      const error = await createShadowDatabase({ shadowUrl: url.toString() }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SupagateError);
      expect((error as SupagateError).code).toBe('SHADOW_FAILED');
      expect((error as SupagateError).hint).toContain('CREATEDB');
      expect((error as SupagateError).message).not.toContain(`pw-${role}`);
    } finally {
      await query(serverUrl, `DROP ROLE ${role}`);
    }
  });
});

describe('a shadow server whose migrations role could escalate', () => {
  it.each([
    [
      'can grant itself pg_execute_server_program (CREATEROLE before PostgreSQL 16)',
      'ALTER ROLE postgres CREATEROLE',
      'can grant itself pg_execute_server_program',
    ],
    [
      'is a member of pg_read_server_files',
      'GRANT pg_read_server_files TO postgres',
      'is a member of pg_read_server_files',
    ],
    [
      'can become a superuser',
      'CREATE ROLE owner_of_all SUPERUSER; GRANT owner_of_all TO postgres',
      'can become the superuser "owner_of_all"',
    ],
  ])('is refused when postgres %s', async (_case, setup, why) => {
    const server = await startEmbeddedPostgres({ supabaseRoles: true });
    try {
      await query(server.url, setup);
      const error = await createShadowDatabase({ shadowUrl: server.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SupagateError);
      expect((error as SupagateError).code).toBe('SHADOW_UNSAFE');
      expect((error as SupagateError).message).toContain(why);
      expect((error as SupagateError).hint).toContain('supabase/postgres');
      const left = await query(
        server.url,
        `SELECT datname AS name FROM pg_database WHERE datname LIKE 'supagate_shadow_%'
         UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'supagate_migrator_%'`,
      );
      expect(left).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('runs the migrations as the server user when it is not a superuser', async () => {
    const server = await startEmbeddedPostgres({ supabaseRoles: true });
    try {
      await query(server.url, `ALTER ROLE postgres CREATEDB PASSWORD 'pw-postgres'`);
      const url = new URL(server.url);
      url.username = 'postgres';
      url.password = 'pw-postgres';
      const shadow = await createShadowDatabase({ shadowUrl: url.toString() });
      try {
        expect(await query(shadow.migrationUrl, 'SELECT session_user AS who')).toEqual([{ who: 'postgres' }]);
        expect(shadow.adminUrl).toBe(shadow.url);
      } finally {
        await shadow.dispose();
      }
    } finally {
      await server.stop();
    }
  });
});

describe('cloneSchema', () => {
  let production: TestDatabase;
  beforeAll(async () => {
    production = await createTestDatabase();
    // The demo app's migrations as SQL, one file at a time: this is about the copy, not about apply.
    const dir = 'examples/demo-app/supabase/migrations';
    for (const file of (await readdir(dir)).sort())
      await production.query(await readFile(join(dir, file), 'utf8'));
    await production
      .query(`insert into public.profiles (id, username) select id, 'u' || id from auth.users`)
      .catch(() => {});
  });
  afterAll(async () => {
    await production.drop();
  });

  it('copies the schema, policies, grants, publication and buckets, and no rows', async () => {
    const pgDump = await findPgTool('pg_dump', { minMajor: 15 });
    const pgRestore = await findPgTool('pg_restore', { minMajor: 15 });
    await production.query(
      `insert into auth.users (id, email) values ('00000000-0000-0000-0000-000000000001', 'a@example.com')`,
    );
    await production.query(
      `insert into public.profiles (id, username) values ('00000000-0000-0000-0000-000000000001', 'a')`,
    );
    const shadow = await createShadowDatabase({ detectLocalSupabase: false });
    try {
      const result = await cloneSchema({
        sourceUrl: production.url,
        targetUrl: shadow.adminUrl,
        pgDump,
        pgRestore,
      });
      expect(result.createdRoles).toEqual(expect.arrayContaining(['anon', 'authenticated', 'service_role']));
      expect(result.missingExtensions).toEqual([]);
      expect(await shape(shadow.url)).toEqual(await shape(production.url));
      expect(await query(shadow.url, 'SELECT count(*)::int AS n FROM public.profiles')).toEqual([{ n: 0 }]);
    } finally {
      await shadow.dispose();
    }
  });

  it('dumps production while the shadow is still being created, and waits for it', async () => {
    const [pgDump, pgRestore] = await Promise.all([
      findPgTool('pg_dump', { minMajor: 15 }),
      findPgTool('pg_restore', { minMajor: 15 }),
    ]);
    const creating = new Promise<void>((resolve) => setTimeout(resolve, 300)).then(() =>
      createShadowDatabase({ detectLocalSupabase: false }),
    );
    const cloned = cloneSchema({
      sourceUrl: production.url,
      targetUrl: creating.then((shadow) => shadow.adminUrl),
      pgDump,
      pgRestore,
    });
    const shadow = await creating;
    try {
      await cloned;
      expect(await shape(shadow.url)).toEqual(await shape(production.url));
    } finally {
      await shadow.dispose();
    }
    // A shadow that could not be created fails the clone with its own error, nothing left behind.
    const failed = cloneSchema({
      sourceUrl: production.url,
      targetUrl: Promise.reject(new Error('no shadow server today')),
      pgDump,
      pgRestore,
    });
    await expect(failed).rejects.toThrow('no shadow server today');
  });

  it('fails with CLONE_FAILED naming an object of the app that does not restore', async () => {
    const [pgDump, pgRestore] = await Promise.all([
      findPgTool('pg_dump', { minMajor: 15 }),
      findPgTool('pg_restore', { minMajor: 15 }),
    ]);
    await production.query('create table public.clone_probe (id int primary key)');
    // The shadow already has a table of that name: its CREATE fails, which rolls the one-transaction
    // restore back; restored again statement by statement, the failure is told by its object.
    const shadow = await createShadowDatabase({ detectLocalSupabase: false });
    try {
      await query(shadow.adminUrl, 'create table public.clone_probe (other text)');
      const error = await cloneSchema({
        sourceUrl: production.url,
        targetUrl: shadow.adminUrl,
        pgDump,
        pgRestore,
      }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(SupagateError);
      expect((error as SupagateError).code).toBe('CLONE_FAILED');
      expect((error as SupagateError).message).toMatch(/TABLE public\.clone_probe: .*already exists/);
    } finally {
      await shadow.dispose();
      await production.query('drop table public.clone_probe');
    }
  });
});

describe('copying roles', () => {
  it('never gives a copied role CREATEROLE, CREATEDB or superuser, nor a membership involving a superuser', async () => {
    const serverUrl = inject('serverUrl');
    const id = Date.now().toString(36);
    const [maker, boss, member] = [`maker_${id}`, `boss_${id}`, `member_${id}`];
    await query(
      serverUrl,
      `CREATE ROLE ${maker} CREATEROLE CREATEDB; CREATE ROLE ${boss} SUPERUSER; CREATE ROLE ${member};
       GRANT ${boss} TO ${member}; GRANT ${maker} TO ${member}`,
    );
    const production = await createTestDatabase();
    const shadow = await createShadowDatabase({ detectLocalSupabase: false });
    try {
      const [pgDump, pgRestore] = await Promise.all([
        findPgTool('pg_dump', { minMajor: 15 }),
        findPgTool('pg_restore', { minMajor: 15 }),
      ]);
      await cloneSchema({ sourceUrl: production.url, targetUrl: shadow.adminUrl, pgDump, pgRestore });
      expect(
        await query(
          shadow.adminUrl,
          `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin,
                  ARRAY(SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid
                         WHERE m.member = r.oid ORDER BY 1) AS member_of
             FROM pg_roles r WHERE rolname IN ('${maker}', '${boss}', '${member}') ORDER BY rolname`,
        ),
      ).toEqual([
        {
          rolname: boss,
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolcanlogin: false,
          member_of: [],
        },
        {
          rolname: maker,
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolcanlogin: false,
          member_of: [],
        },
        {
          rolname: member,
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolcanlogin: false,
          member_of: [maker],
        },
      ]);
    } finally {
      await shadow.dispose();
      await production.drop();
      await query(serverUrl, `DROP ROLE ${member}; DROP ROLE ${boss}; DROP ROLE ${maker}`);
    }
  });
});

describe('PostgreSQL client tools', () => {
  it('finds pg_dump of at least the server major version', async () => {
    const tool = await findPgTool('pg_dump', { minMajor: 15 });
    expect(tool.major).toBeGreaterThanOrEqual(15);
  });

  it('says what to install when no pg_dump is new enough', async () => {
    const error = await findPgTool('pg_dump', { minMajor: 99 }).catch((e: unknown) => e);
    expect((error as SupagateError).code).toBe('PG_TOOL_MISSING');
    expect((error as SupagateError).message).toContain('pg_dump 99 or newer is needed');
    expect((error as SupagateError).hint).toContain('postgresql-client-99');
  });

  it('names a --pg-dump path that is not a pg_dump', async () => {
    const error = await findPgTool('pg_dump', { minMajor: 15, explicitPath: '/nonexistent/pg_dump' }).catch(
      (e: unknown) => e,
    );
    expect((error as SupagateError).code).toBe('PG_TOOL_MISSING');
    expect((error as SupagateError).message).toContain('/nonexistent/pg_dump');
  });

  it('passes the password in the environment, never in arguments', () => {
    const env = libpqEnvironment('postgresql://app:p%40ss@db.example.com:6543/postgres?sslmode=require');
    expect(env).toMatchObject({
      PGHOST: 'db.example.com',
      PGPORT: '6543',
      PGUSER: 'app',
      PGPASSWORD: 'p@ss',
      PGDATABASE: 'postgres',
      PGSSLMODE: 'require',
    });
  });
});
