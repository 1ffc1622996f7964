import pg from 'pg';
import { SupagateError } from '../errors.js';
import { quoteIdentifier } from '../sql/quote.js';
import { assertNotProductionCluster } from './cluster-identity.js';
import { type Client, connect, disconnect } from './connect.js';
import { type EmbeddedServer, startEmbeddedPostgres } from './embedded.js';
import { checkCannotEscalate, type MigrationRole, migrationRoleFor } from './migration-role.js';
import { describeTarget, redact } from './redact.js';
import { givePostgresSettings } from './settings.js';
import {
  cronDatabaseName,
  dropCronDatabase,
  generatedShadowName,
  MAINTENANCE_DATABASE,
  type ReplacedDatabase,
  recreateCronDatabase,
} from './shadow-database-name.js';

/**
 * The shadow: a fresh, uniquely named database where the pending migrations run instead of
 * production. Its server is, in order: --shadow-url; the database of a running
 * `supabase start` (port 54322); an embedded PostgreSQL started for the run. The database is
 * dropped (and an embedded server stopped) by dispose(), also after a failure.
 *
 * Pull requests' SQL runs there, so: the server must not be production's cluster
 * (cluster-identity.ts), and the migrations run as a role that is not a superuser
 * (migration-role.ts). The server's own user only prepares the database, before any of that
 * SQL runs: it never connects to the shadow database afterwards, where a view, a cast or a
 * function left by a migration would run with its privileges.
 *
 * On a --shadow-url server declared disposable whose pg_cron is loaded, the shadow database
 * takes the name in `cron.database_name` instead, so that pg_cron can be created in it
 * (shadow-database-name.ts).
 */
export interface ShadowDatabase {
  /**
   * The shadow database as the migrations' role: what migrations run with, and what the
   * shadow is read with after them. Never a superuser.
   */
  url: string;
  /** The same as `url`: the role migrations run as. */
  migrationUrl: string;
  /** The shadow database as the server's user, to restore production's schema into it before any migration runs. */
  adminUrl: string;
  source: 'shadow-url' | 'local-supabase' | 'embedded';
  /** `server_version_num` of the shadow server. */
  serverVersion: number;
  /**
   * The shadow server's `cron.database_name` when pg_cron is loaded there: the only database
   * where pg_cron can be created. The shadow database itself when the server is disposable.
   */
  cronDatabase?: string;
  /**
   * Creates a role without login or attributes (when missing) in place of one a migration
   * creates; dropped on dispose. False when it could not be created.
   */
  standInRole(name: string): Promise<boolean>;
  /** Checks again that the migrations' role cannot escalate: once the clone has added roles and memberships. */
  checkMigrationRole(): Promise<void>;
  /**
   * Embedded only: keeps the shadow as it is now (its cluster, stopped cleanly and copied to
   * `destination`, without this run's migration role) to start a later plan from. Call it
   * before any migration has run. Returns the record a later start needs.
   */
  keepAsBaseline?(destination: string): Promise<{ database: string; superuser: string; password: string }>;
  /**
   * A shadow server's (not a disposable one's): keeps the shadow database as it is now as the
   * template database `name` (no connections allowed, `comment` on it), to create a later
   * plan's shadow from. Call it before any migration has run, with no session on the shadow.
   */
  keepAsTemplate?(name: string, comment: string): Promise<void>;
  dispose(): Promise<void>;
}

export interface ShadowOptions {
  /** A server to create the shadow database on (its user must be allowed to CREATE DATABASE). */
  shadowUrl?: string;
  /** Look for `supabase start`'s database on 127.0.0.1:54322 before starting an embedded server. */
  detectLocalSupabase?: boolean;
  /** Production: a shadow server on its cluster is refused before anything is created. */
  productionUrl?: string;
  /**
   * The shadowUrl server exists only for supagate (a CI service container), one run at a
   * time: the shadow database may take the name of its pg_cron database, which is dropped and
   * created again empty.
   */
  disposable?: boolean;
  /**
   * When the shadow is embedded: start its server from this cached baseline's data directory
   * (shadow/baseline-store.ts) and use the database in it, instead of a new, empty one.
   */
  baseline?: { dataDirectory: string; password: string; database: string };
  /** Embedded from a baseline: stops copying its data directory (the start then fails). */
  signal?: AbortSignal;
  /** When the shadow is a server's: create the shadow database from this template database. */
  template?: string;
}

export const LOCAL_SUPABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54322/postgres';

export async function createShadowDatabase(options: ShadowOptions = {}): Promise<ShadowDatabase> {
  const production = options.productionUrl;
  if (options.shadowUrl) {
    const disposable = options.disposable ?? false;
    return onServer(
      options.shadowUrl,
      'shadow-url',
      production,
      async () => {},
      disposable,
      undefined,
      options.template,
    );
  }
  if (options.detectLocalSupabase && (await reachable(LOCAL_SUPABASE_URL))) {
    return onServer(LOCAL_SUPABASE_URL, 'local-supabase', production, async () => {});
  }
  const cached = options.baseline;
  const server = await startEmbeddedPostgres({
    supabaseRoles: true,
    ...(cached ? { dataDirectory: { path: cached.dataDirectory, password: cached.password } } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await onServer(server.url, 'embedded', production, () => server.stop(), false, {
      server,
      ...(cached ? { database: cached.database } : {}),
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function onServer(
  serverUrl: string,
  source: ShadowDatabase['source'],
  productionUrl: string | undefined,
  stopServer: () => Promise<void>,
  disposable = false,
  embedded?: { server: EmbeddedServer; database?: string },
  template?: string,
): Promise<ShadowDatabase> {
  const label = describeTarget(serverUrl).label;
  let name = embedded?.database ?? generatedShadowName();
  // Where the server's user connects: never the shadow database.
  let serverAdminUrl = serverUrl;
  let admin = await connect(serverUrl, { applicationName: 'supagate shadow' });
  const standIns: string[] = [];
  let role: MigrationRole | undefined;
  let created = false;
  let replaced: ReplacedDatabase | undefined;
  const dropAll = async (client: Client) => {
    if (created) await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    try {
      // The cron database this run took the name of: back, empty, as it was found.
      if (replaced) await recreateCronDatabase(client, name, replaced);
    } finally {
      for (const standIn of standIns)
        await client.query(`DROP ROLE IF EXISTS ${quoteIdentifier(standIn)}`).catch(() => {});
      await role?.tearDown(client);
    }
  };
  let serverVersion: number;
  let cronDatabase: string | undefined;
  let migrationUrl: string;
  try {
    serverVersion = Number(
      (await admin.client.query('SHOW server_version_num')).rows[0]?.server_version_num ?? 0,
    );
    const cron = await cronDatabaseName(admin.client);
    cronDatabase = cron.cronDatabase;
    if (productionUrl) await assertNotProductionCluster(admin.client, label, productionUrl);
    role = await migrationRoleFor(admin.client, label);
    if (disposable && cronDatabase) {
      name = cronDatabase;
      if (cron.connectedTo === name) {
        serverAdminUrl = withDatabase(serverUrl, MAINTENANCE_DATABASE);
        await disconnect(admin);
        admin = await connect(serverAdminUrl, { applicationName: 'supagate shadow' });
      }
      replaced = await dropCronDatabase(admin.client, name, label);
    }
    if (!embedded?.database) await createDatabase(admin.client, name, role.databaseOwner, label, template);
    created = true;
    migrationUrl = await role.setUp(admin.client, quoteIdentifier(name), withDatabase(serverUrl, name));
    if (embedded?.database) await givePostgresSettings(admin.client, name, migrationUser(migrationUrl));
    await checkCannotEscalate(migrationUrl, label);
  } catch (error) {
    await dropAll(admin.client).catch(() => {});
    throw error;
  } finally {
    await disconnect(admin);
  }
  const adminUrl = withDatabase(serverUrl, name);
  let disposed = false;
  return {
    url: migrationUrl,
    migrationUrl,
    adminUrl,
    source,
    serverVersion,
    ...(cronDatabase ? { cronDatabase } : {}),
    standInRole: (roleName) => standInRole(serverAdminUrl, roleName, standIns),
    checkMigrationRole: () => checkCannotEscalate(migrationUrl, label),
    ...(embedded
      ? {
          keepAsBaseline: async (destination: string) => {
            const run = role as MigrationRole;
            await withClient(serverAdminUrl, (client) => run.tearDown(client));
            await embedded.server.saveDataDirectory(destination);
            await withClient(serverAdminUrl, async (client) => {
              await run.setUp(client, quoteIdentifier(name), withDatabase(serverUrl, name));
              await givePostgresSettings(client, name, migrationUser(migrationUrl));
            });
            const url = new URL(serverUrl);
            return {
              database: name,
              superuser: decodeURIComponent(url.username),
              password: decodeURIComponent(url.password),
            };
          },
        }
      : {}),
    ...(!embedded && !disposable
      ? {
          keepAsTemplate: (templateName: string, comment: string) =>
            withClient(serverAdminUrl, async (client) => {
              const quoted = quoteIdentifier(templateName);
              await client.query(`CREATE DATABASE ${quoted} TEMPLATE ${quoteIdentifier(name)}`);
              await client.query(`ALTER DATABASE ${quoted} ALLOW_CONNECTIONS false`);
              await client.query(`COMMENT ON DATABASE ${quoted} IS ${client.escapeLiteral(comment)}`);
            }),
        }
      : {}),
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      // An embedded server is removed whole: dropping its database first would only wait for a checkpoint.
      if (source === 'embedded') return stopServer();
      const cleanup = await connect(serverAdminUrl, { applicationName: 'supagate shadow' }).catch(
        () => undefined,
      );
      try {
        if (cleanup) await dropAll(cleanup.client);
      } finally {
        await disconnect(cleanup);
        await stopServer();
      }
    },
  };
}

async function createDatabase(
  admin: Client,
  name: string,
  owner: string | undefined,
  label: string,
  template = 'template0',
): Promise<void> {
  try {
    await admin.query(
      `CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE ${quoteIdentifier(template)}${owner ? ` OWNER ${quoteIdentifier(owner)}` : ''}`,
    );
  } catch (error) {
    throw new SupagateError(
      'SHADOW_FAILED',
      `Could not create the shadow database on ${label}: ${redact(String((error as Error).message ?? error))}`,
      {
        hint: 'The shadow server’s user needs the CREATEDB privilege. Use a throwaway server (e.g. a supabase/postgres container), never production.',
        cause: error,
      },
    );
  }
}

function migrationUser(migrationUrl: string): string {
  return decodeURIComponent(new URL(migrationUrl).username);
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connect(url, { applicationName: 'supagate shadow' });
  try {
    return await work(connection.client);
  } finally {
    await disconnect(connection);
  }
}

/** Connects to the server's own database, never to the shadow database (see above). */
async function standInRole(serverUrl: string, name: string, standIns: string[]): Promise<boolean> {
  const admin = await connect(serverUrl, { applicationName: 'supagate shadow' });
  try {
    const { rows } = await admin.client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    if (rows.length > 0) return true;
    await admin.client.query(`CREATE ROLE ${quoteIdentifier(name)} NOLOGIN`);
    standIns.push(name);
    return true;
  } catch (error) {
    // Created by another run at the same moment: it exists, which is all that is needed.
    return (error as { code?: string }).code === '42710';
  } finally {
    await disconnect(admin);
  }
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
