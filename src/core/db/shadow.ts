import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SupagateError } from '../errors.js';
import { quoteIdentifier } from '../sql/quote.js';
import { assertNotProductionCluster } from './cluster-identity.js';
import { type Client, connect, disconnect } from './connect.js';
import { startEmbeddedPostgres } from './embedded.js';
import { checkCannotEscalate, type MigrationRole, migrationRoleFor } from './migration-role.js';
import { describeTarget, redact } from './redact.js';

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
   * Creates a role without login or attributes (when missing) in place of one a migration
   * creates; dropped on dispose. False when it could not be created.
   */
  standInRole(name: string): Promise<boolean>;
  /** Checks again that the migrations' role cannot escalate: once the clone has added roles and memberships. */
  checkMigrationRole(): Promise<void>;
  dispose(): Promise<void>;
}

export interface ShadowOptions {
  /** A server to create the shadow database on (its user must be allowed to CREATE DATABASE). */
  shadowUrl?: string;
  /** Look for `supabase start`'s database on 127.0.0.1:54322 before starting an embedded server. */
  detectLocalSupabase?: boolean;
  /** Production: a shadow server on its cluster is refused before anything is created. */
  productionUrl?: string;
}

export const LOCAL_SUPABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54322/postgres';

export async function createShadowDatabase(options: ShadowOptions = {}): Promise<ShadowDatabase> {
  const production = options.productionUrl;
  if (options.shadowUrl) return onServer(options.shadowUrl, 'shadow-url', production, async () => {});
  if (options.detectLocalSupabase && (await reachable(LOCAL_SUPABASE_URL))) {
    return onServer(LOCAL_SUPABASE_URL, 'local-supabase', production, async () => {});
  }
  const server = await startEmbeddedPostgres({ supabaseRoles: true });
  try {
    return await onServer(server.url, 'embedded', production, () => server.stop());
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
): Promise<ShadowDatabase> {
  const label = describeTarget(serverUrl).label;
  const name = `supagate_shadow_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const adminUrl = withDatabase(serverUrl, name);
  const admin = await connect(serverUrl, { applicationName: 'supagate shadow' });
  const standIns: string[] = [];
  let role: MigrationRole | undefined;
  let created = false;
  const dropAll = async (client: Client) => {
    if (created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    for (const standIn of standIns)
      await client.query(`DROP ROLE IF EXISTS ${quoteIdentifier(standIn)}`).catch(() => {});
    await role?.tearDown(client);
  };
  let serverVersion: number;
  let migrationUrl: string;
  try {
    serverVersion = Number(
      (await admin.client.query('SHOW server_version_num')).rows[0]?.server_version_num ?? 0,
    );
    if (productionUrl) await assertNotProductionCluster(admin.client, label, productionUrl);
    role = await migrationRoleFor(admin.client, label);
    await createDatabase(admin.client, name, role.databaseOwner, label);
    created = true;
    migrationUrl = await role.setUp(admin.client, name, adminUrl);
    await checkCannotEscalate(migrationUrl, label);
  } catch (error) {
    await dropAll(admin.client).catch(() => {});
    throw error;
  } finally {
    await disconnect(admin);
  }
  let disposed = false;
  return {
    url: migrationUrl,
    migrationUrl,
    adminUrl,
    source,
    serverVersion,
    standInRole: (roleName) => standInRole(serverUrl, roleName, standIns),
    checkMigrationRole: () => checkCannotEscalate(migrationUrl, label),
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      const cleanup = await connect(serverUrl, { applicationName: 'supagate shadow' }).catch(() => undefined);
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
): Promise<void> {
  try {
    await admin.query(
      `CREATE DATABASE ${name} TEMPLATE template0${owner ? ` OWNER ${quoteIdentifier(owner)}` : ''}`,
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
