import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { type PlanResult, plan } from '../src/core/commands/plan.js';
import type { ConfigInput } from '../src/core/config.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../src/core/db/embedded.js';
import { SupagateError } from '../src/core/errors.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { withDatabase } from './harness/global-setup.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * A pull request's author is hostile: each test is one migration trying to reach production,
 * the host or the cluster from the shadow, planned with the embedded shadow and with a
 * --shadow-url server. Afterwards production (its database, the roles and settings of its
 * server), the shadow server and the plan's report are as they were: the migration either
 * failed there, reported at its file:line, or was not run and is listed in the warnings.
 */
const ATTACK = 'supabase/migrations/2_attack.sql';

const BASE = {
  '1_base': `
create table public.notes (id bigint generated always as identity primary key, owner uuid not null, body text);
alter table public.notes enable row level security;
create policy "owners read" on public.notes for select to authenticated using ((select auth.uid()) = owner);
insert into public.notes (owner, body) values ('00000000-0000-0000-0000-000000000001', 'keep me');`,
};

const WATCHED_ROLES = [
  'postgres',
  'anon',
  'authenticated',
  'service_role',
  'authenticator',
  'supabase_admin',
];

let db: TestDatabase;
let project: TestProject;
/** A role name of this test's own, for the attacks that create one. */
let evil: string;

beforeEach(async () => {
  db = await createTestDatabase();
  project = await createProject(migrations(BASE));
  await apply(project.config(db.url));
  evil = `evil_${randomBytes(4).toString('hex')}`;
});
afterEach(async () => {
  await project.cleanup();
  await db.drop();
});

async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** What a cluster-wide change would show: roles (attributes, password, settings), memberships, server settings. */
async function clusterState(serverUrl: string): Promise<unknown> {
  const roles = [...WATCHED_ROLES, evil];
  const [state] = await query<{ state: unknown }>(
    serverUrl,
    `SELECT json_build_object(
       'roles', (SELECT json_agg(json_build_object('name', rolname, 'super', rolsuper, 'createrole', rolcreaterole,
                   'createdb', rolcreatedb, 'login', rolcanlogin, 'replication', rolreplication,
                   'bypassrls', rolbypassrls, 'password', rolpassword) ORDER BY rolname)
                  FROM pg_authid WHERE rolname = ANY($1)),
       'memberships', (SELECT json_agg(format('%s>%s', roleid::regrole, member::regrole) ORDER BY roleid::regrole::text, member::regrole::text)
                  FROM pg_auth_members WHERE roleid::regrole::text = ANY($1) OR member::regrole::text = ANY($1)),
       'roleSettings', (SELECT json_agg(format('%s:%s', setrole::regrole, setconfig) ORDER BY setrole::regrole::text)
                  FROM pg_db_role_setting WHERE setdatabase = 0 AND setrole::regrole::text = ANY($1)),
       'fileSettings', (SELECT json_agg(format('%s=%s', name, setting) ORDER BY name) FROM pg_file_settings),
       'autoConf', pg_read_file('postgresql.auto.conf')
     ) AS state`,
    [roles],
  );
  return state?.state;
}

async function productionState(): Promise<unknown> {
  const [rows] = await db.query<{ hash: string }>(
    `SELECT md5(coalesce(string_agg(n::text, ',' ORDER BY id), '')) AS hash FROM public.notes n`,
  );
  return { database: await snapshot(db), rows: rows?.hash, cluster: await clusterState(inject('serverUrl')) };
}

function expectFailedAt(result: PlanResult, line: number, message: RegExp): void {
  expect(result.status).toBe('failed');
  expect(result.failure).toMatchObject({ stage: 'migration', file: ATTACK, line });
  expect(result.failure?.message).toMatch(message);
}

function expectNotRun(result: PlanResult, line: number, what: string): void {
  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('planned');
  expect(result.shadow.warnings).toContainEqual(
    expect.stringContaining(`not run on the shadow: ${ATTACK}:${line} ${what}`),
  );
}

const SHADOWS: { name: string; overrides: () => ConfigInput; server: () => string | undefined }[] = [
  {
    name: 'the embedded shadow',
    overrides: () => ({ shadowUrl: undefined, detectLocalSupabase: false }),
    server: () => undefined,
  },
  {
    name: 'a --shadow-url server',
    overrides: () => ({ shadowUrl: shadowServer.url, detectLocalSupabase: false }),
    server: () => shadowServer.url,
  },
];

// A shadow server of this file's own: the tests' shared one sees other files' plans come and go,
// and its roles must be compared exactly before and after each attack.
let shadowServer: EmbeddedServer;
beforeAll(async () => {
  shadowServer = await startEmbeddedPostgres({ supabaseRoles: true });
  // A first plan copies production's roles into the server, as on any shadow server in use.
  const warm = await createTestDatabase();
  const warmProject = await createProject(migrations(BASE));
  try {
    await plan(warmProject.config(warm.url, { shadowUrl: shadowServer.url }));
  } finally {
    await warmProject.cleanup();
    await warm.drop();
  }
});
afterAll(async () => {
  await shadowServer?.stop();
});

describe.each(SHADOWS)('a hostile migration, with $name', (shadow) => {
  /** Plans `sql` as the pending migration; production, both servers and the report must come out untouched. */
  async function attack(sql: string): Promise<PlanResult> {
    await project.write(ATTACK, sql);
    const server = shadow.server();
    const before = await productionState();
    const shadowBefore = server ? await clusterState(server) : undefined;
    const marker = `marker-${randomBytes(8).toString('hex')}`;
    process.env.SUPAGATE_ATTACK_MARKER = marker;
    try {
      const outcome = await plan(project.config(db.url, shadow.overrides())).catch((error: Error) => error);
      expect(await productionState()).toEqual(before);
      if (server) expect(await clusterState(server)).toEqual(shadowBefore);
      const report = outcome instanceof Error ? outcome.message : JSON.stringify(outcome);
      expect(report).not.toContain(marker);
      expect(report).not.toContain(new URL(inject('serverUrl')).password);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    } finally {
      delete process.env.SUPAGATE_ATTACK_MARKER;
    }
  }

  /** Production's URL as an attacker would guess it: the right host and database, a guessed password. */
  function guessedProductionUrl(password: string): string {
    const url = new URL(db.url);
    url.password = password;
    return url.toString();
  }

  it('cannot read the environment with COPY … FROM PROGRAM', async () => {
    const result = await attack(`create table public.loot (line text);
copy public.loot from program 'env';`);
    expectFailedAt(result, 2, /pg_execute_server_program|superuser/);
  });

  it('cannot read the environment with COPY … PROGRAM run by DO/EXECUTE', async () => {
    const result = await attack(`create table public.loot (line text);
do $$ begin execute 'copy public.loot from program ''env'''; end $$;`);
    expectFailedAt(result, 2, /pg_execute_server_program|superuser/);
  });

  it('cannot create dblink to reach production with a guessed URL', async () => {
    const result = await attack(`create extension if not exists dblink;
select dblink_exec('${guessedProductionUrl('supagate-embedded')}', 'drop table public.notes');`);
    expectFailedAt(result, 1, /permission denied to create extension "dblink"/);
    expect(result.failure?.hint).toContain('privileged extensions');
  });

  it('cannot reach production through a dblink production already has', async () => {
    await db.query('create extension dblink');
    const result = await attack(`create table public.probe (id int);
select dblink_exec('${guessedProductionUrl('postgres')}', 'drop table public.notes');`);
    expectFailedAt(result, 2, /could not establish connection|password/);
  });

  it('cannot read a server file with pg_read_file', async () => {
    const result = await attack(`create table public.stolen (content text);
insert into public.stolen select pg_read_file('/etc/passwd');`);
    expectFailedAt(result, 2, /permission denied for function pg_read_file/);
  });

  it('cannot write a server file with COPY … TO', async () => {
    const path = join(tmpdir(), `supagate-attack-${randomBytes(6).toString('hex')}`);
    const result = await attack(`select 1;
copy public.notes to '${path}';`);
    expectFailedAt(result, 2, /pg_write_server_files|superuser/);
    expect(existsSync(path)).toBe(false);
  });

  it('does not give authenticated BYPASSRLS', async () => {
    const result = await attack(`create table public.t (id int);
alter role authenticated bypassrls;`);
    expectNotRun(result, 2, 'ALTER ROLE');
  });

  it('does not create a superuser; a role without attributes stands in for it while planning', async () => {
    const result = await attack(`create role ${evil} superuser login password 'owned';
create table public.t (id int);
grant select on public.t to ${evil};`);
    expectNotRun(result, 1, 'CREATE ROLE');
  });

  it('does not change the postgres password', async () => {
    const result = await attack(`select 1;
alter user postgres password 'owned';`);
    expectNotRun(result, 2, 'ALTER ROLE');
  });

  it('does not keep a postgres password changed from inside a function', async () => {
    const result = await attack(`do $$ begin execute 'alter user postgres password ''owned'''; end $$;`);
    // A role may change its own password: it runs, and is put back when the shadow goes.
    expect(result.failure).toBeUndefined();
  });

  it('does not grant itself pg_execute_server_program', async () => {
    const result = await attack(`select 1;
grant pg_execute_server_program to postgres;`);
    expectNotRun(result, 2, 'GRANT/REVOKE role membership');
  });

  it('cannot grant itself pg_execute_server_program from DO/EXECUTE', async () => {
    const result = await attack(`select 1;
do $$ begin execute 'grant pg_execute_server_program to postgres'; end $$;`);
    expectFailedAt(result, 2, /admin option|permission denied/);
  });

  it('does not run ALTER SYSTEM', async () => {
    const result = await attack(`select 1;
alter system set log_statement = 'all';`);
    expectNotRun(result, 2, 'ALTER SYSTEM');
  });

  it('cannot run ALTER SYSTEM from DO/EXECUTE', async () => {
    const result = await attack(`select 1;
do $$ begin execute 'alter system set log_statement = ''all'''; end $$;`);
    expectFailedAt(result, 2, /ALTER SYSTEM|permission denied/);
  });

  it("does not drop production's database", async () => {
    const result = await attack(`select 1;
drop database ${db.name};`);
    expectNotRun(result, 2, 'DROP DATABASE');
  });

  it('runs nothing of its own with the privileges of the server’s user when the shadow is read', async () => {
    const path = join(tmpdir(), `supagate-attack-${randomBytes(6).toString('hex')}`);
    // The plan reads storage.buckets after the migrations: a view there runs its functions as the reader.
    const outcome = await attack(`create function public.evil() returns int language plpgsql as $$
begin execute format('copy (select 1) to %L', '${path}'); return 1; end $$;
insert into storage.buckets (id, name) values ('bait', 'bait');
alter table storage.buckets rename to buckets_real;
create view storage.buckets as select b.*, public.evil() as e from storage.buckets_real b;`).catch(
      (error: unknown) => error,
    );
    expect(existsSync(path)).toBe(false);
    // Reading the shadow fails, as the migrations' role: the plan says so, and nothing was written.
    expect(outcome).toMatchObject({ status: 'failed', blocking: true, failure: { stage: 'migration' } });
    expect((outcome as PlanResult).failure?.message).toMatch(
      /cannot be read after the migrations.*pg_write_server_files/,
    );
  });

  it('cannot terminate other sessions', async () => {
    const production = new pg.Client({ connectionString: db.url });
    await production.connect();
    const server = shadow.server();
    const shadowAdmin = server ? new pg.Client({ connectionString: server }) : undefined;
    await shadowAdmin?.connect();
    try {
      const result = await attack(`select 1;
select pg_terminate_backend(pid) from pg_stat_activity;`);
      expectFailedAt(result, 2, /terminat|superuser|permission/i);
      expect((await production.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
      if (shadowAdmin) expect((await shadowAdmin.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await production.end();
      await shadowAdmin?.end();
    }
  });
});

describe('shadow servers that are refused before anything runs', () => {
  async function shadowDatabasesOn(serverUrl: string): Promise<string[]> {
    const rows = await query<{ datname: string }>(
      serverUrl,
      `SELECT datname FROM pg_database WHERE datname LIKE 'supagate_shadow_%' ORDER BY datname`,
    );
    return rows.map((row) => row.datname);
  }

  it("refuses a shadow URL on production's cluster", async () => {
    await project.write(ATTACK, `drop database ${db.name};`);
    const before = await productionState();
    const databases = await shadowDatabasesOn(inject('serverUrl'));
    const error = await plan(project.config(db.url, { shadowUrl: inject('serverUrl') })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SupagateError);
    expect((error as SupagateError).code).toBe('SHADOW_IS_PRODUCTION');
    expect((error as SupagateError).message).toContain('cluster-wide');
    expect((error as SupagateError).hint).toContain('--shadow-url');
    expect((error as SupagateError).message).not.toContain(new URL(inject('serverUrl')).password);
    expect(await productionState()).toEqual(before);
    expect(await shadowDatabasesOn(inject('serverUrl'))).toEqual(databases);
  });

  it("refuses another database of production's cluster as shadow server", async () => {
    await project.write(ATTACK, 'select 1;');
    const other = withDatabase(inject('serverUrl'), 'template1');
    const error = await plan(project.config(db.url, { shadowUrl: other })).catch((e: unknown) => e);
    expect((error as SupagateError).code).toBe('SHADOW_IS_PRODUCTION');
  });

  it('refuses a stock server whose postgres is a superuser', async () => {
    const stock = await startEmbeddedPostgres();
    try {
      await project.write(ATTACK, `copy (select 1) to program 'true';`);
      const error = await plan(project.config(db.url, { shadowUrl: stock.url })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SupagateError);
      expect((error as SupagateError).code).toBe('SHADOW_UNSAFE');
      expect((error as SupagateError).message).toContain('"postgres" is a superuser');
      expect((error as SupagateError).hint).toContain('ALTER ROLE postgres NOSUPERUSER');
      expect(await shadowDatabasesOn(stock.url)).toEqual([]);
    } finally {
      await stock.stop();
    }
  });
});

describe.skipIf(platform() !== 'linux')('the embedded server', () => {
  it('gets none of the environment of supagate, and a password of its own', async () => {
    const markers = {
      SUPAGATE_DB_URL: `postgresql://postgres:marker-${randomBytes(6).toString('hex')}@db.example.com/postgres`,
      PGPASSWORD: `marker-${randomBytes(6).toString('hex')}`,
      GITHUB_TOKEN: `marker-${randomBytes(6).toString('hex')}`,
    };
    const saved = Object.fromEntries(Object.keys(markers).map((name) => [name, process.env[name]]));
    Object.assign(process.env, markers);
    const servers = [];
    try {
      servers.push(await startEmbeddedPostgres(), await startEmbeddedPostgres({ supabaseRoles: true }));
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    try {
      for (const server of servers) {
        const environment = readFileSync(`/proc/${server.pid}/environ`, 'utf8');
        for (const [name, value] of Object.entries(markers)) {
          expect(environment).not.toContain(value);
          expect(environment).not.toContain(`${name}=`);
        }
      }
      const [first, second] = servers.map((server) => new URL(server.url).password);
      expect(first).toMatch(/^[\w-]{32}$/);
      expect(first).not.toBe(second);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });

  it('has postgres as an ordinary role when shaped like Supabase, and removes its folder on stop', async () => {
    const server = await startEmbeddedPostgres({ supabaseRoles: true });
    try {
      expect(server.superuser).toBe('supabase_admin');
      expect(
        await query(
          server.url,
          `SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin FROM pg_roles WHERE rolname = 'postgres'`,
        ),
      ).toEqual([
        {
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolreplication: false,
          rolcanlogin: true,
        },
      ]);
      expect(await query(server.url, 'SHOW listen_addresses')).toEqual([{ listen_addresses: '127.0.0.1' }]);
      const [{ data_directory: dataDir } = { data_directory: '' }] = await query<{ data_directory: string }>(
        server.url,
        'SHOW data_directory',
      );
      expect(existsSync(dataDir)).toBe(true);
      await server.stop();
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
