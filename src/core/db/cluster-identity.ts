import { SupagateError } from '../errors.js';
import { type Client, connect, disconnect } from './connect.js';

/**
 * Whether the shadow server is production's own cluster (the same server, another database
 * on it, or a replica of it). Roles, settings and databases are cluster-wide: a pull request's
 * SQL run in a shadow database there would change production. There is no override.
 *
 * The system identifier (pg_control_system()) names a cluster; when either session may not
 * read it, the postmaster's start time together with production's database (name and oid)
 * being on the shadow server stands in for it.
 */
interface ClusterIdentity {
  systemIdentifier: string | undefined;
  /** pg_postmaster_start_time() as epoch seconds: independent of the session's TimeZone. */
  startedAt: string;
  database: string;
  databaseOid: string;
}

export async function assertNotProductionCluster(
  shadowAdmin: Client,
  shadowLabel: string,
  productionUrl: string,
): Promise<void> {
  const production = await connect(productionUrl, {
    readOnly: true,
    applicationName: 'supagate shadow check (read-only)',
  });
  let productionIdentity: ClusterIdentity;
  try {
    productionIdentity = await identityOf(production.client);
  } finally {
    await disconnect(production);
  }
  if (await sameCluster(productionIdentity, shadowAdmin)) {
    throw new SupagateError(
      'SHADOW_IS_PRODUCTION',
      `The shadow server ${shadowLabel} is production's own cluster. Roles, settings and databases are cluster-wide, so the pending migrations run there could change production (its roles, passwords, settings, even drop its database); nothing was run.`,
      {
        hint: 'Omit --shadow-url (and SUPAGATE_SHADOW_URL) to use an embedded shadow server, or give a separate throwaway server, e.g. a supabase/postgres container: never production’s server, not even another database on it.',
      },
    );
  }
}

async function sameCluster(production: ClusterIdentity, shadowAdmin: Client): Promise<boolean> {
  const shadow = await identityOf(shadowAdmin);
  if (production.systemIdentifier && shadow.systemIdentifier) {
    return production.systemIdentifier === shadow.systemIdentifier;
  }
  if (production.startedAt !== shadow.startedAt) return false;
  const { rows } = await shadowAdmin.query<{ found: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND oid = $2::oid) AS found',
    [production.database, production.databaseOid],
  );
  return rows[0]?.found === true;
}

async function identityOf(client: Client): Promise<ClusterIdentity> {
  const { rows } = await client.query<Omit<ClusterIdentity, 'systemIdentifier'>>(
    `SELECT extract(epoch FROM pg_postmaster_start_time())::text AS "startedAt",
            current_database() AS database,
            (SELECT oid FROM pg_database WHERE datname = current_database())::text AS "databaseOid"`,
  );
  const row = rows[0];
  if (!row) throw new SupagateError('INTERNAL', 'The server did not say which cluster it is.');
  return { ...row, systemIdentifier: await systemIdentifier(client) };
}

/** Undefined when the session may not call pg_control_system() (a managed server may revoke it). */
export async function systemIdentifier(client: Client): Promise<string | undefined> {
  try {
    const { rows } = await client.query<{ id: string }>(
      'SELECT system_identifier::text AS id FROM pg_control_system()',
    );
    return rows[0]?.id;
  } catch {
    return undefined;
  }
}
