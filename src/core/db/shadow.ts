import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SupagateError } from '../errors.js';
import { connect, disconnect } from './connect.js';
import { startEmbeddedPostgres } from './embedded.js';
import { describeTarget, redact } from './redact.js';

/**
 * The shadow: a fresh, uniquely named database where the pending migrations run instead of
 * production. Its server is, in order: --shadow-url; the database of a running
 * `supabase start` (port 54322); an embedded PostgreSQL started for the run. The database is
 * dropped (and an embedded server stopped) by dispose(), also after a failure.
 */
export interface ShadowDatabase {
  url: string;
  source: 'shadow-url' | 'local-supabase' | 'embedded';
  /** `server_version_num` of the shadow server. */
  serverVersion: number;
  dispose(): Promise<void>;
}

export interface ShadowOptions {
  /** A server to create the shadow database on (its user must be allowed to CREATE DATABASE). */
  shadowUrl?: string;
  /** Look for `supabase start`'s database on 127.0.0.1:54322 before starting an embedded server. */
  detectLocalSupabase?: boolean;
}

export const LOCAL_SUPABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:54322/postgres';

export async function createShadowDatabase(options: ShadowOptions = {}): Promise<ShadowDatabase> {
  if (options.shadowUrl) return onServer(options.shadowUrl, 'shadow-url', async () => {});
  if (options.detectLocalSupabase && (await reachable(LOCAL_SUPABASE_URL))) {
    return onServer(LOCAL_SUPABASE_URL, 'local-supabase', async () => {});
  }
  const server = await startEmbeddedPostgres();
  try {
    return await onServer(server.url, 'embedded', () => server.stop());
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function onServer(
  serverUrl: string,
  source: ShadowDatabase['source'],
  stopServer: () => Promise<void>,
): Promise<ShadowDatabase> {
  const name = `supagate_shadow_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = await connect(serverUrl, { applicationName: 'supagate shadow' });
  let serverVersion: number;
  try {
    serverVersion = Number(
      (await admin.client.query('SHOW server_version_num')).rows[0]?.server_version_num ?? 0,
    );
    await admin.client.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } catch (error) {
    throw new SupagateError(
      'SHADOW_FAILED',
      `Could not create the shadow database on ${describeTarget(serverUrl).label}: ${redact(String((error as Error).message ?? error))}`,
      {
        hint: 'The shadow server’s user needs the CREATEDB privilege. Use a throwaway server (e.g. a supabase/postgres container), never production.',
        cause: error,
      },
    );
  } finally {
    await disconnect(admin);
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let disposed = false;
  return {
    url: url.toString(),
    source,
    serverVersion,
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      const cleanup = await connect(serverUrl, { applicationName: 'supagate shadow' }).catch(() => undefined);
      try {
        await cleanup?.client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await disconnect(cleanup);
        await stopServer();
      }
    },
  };
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
