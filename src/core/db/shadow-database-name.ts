import { randomBytes } from 'node:crypto';
import { SupagateError } from '../errors.js';
import { quoteIdentifier } from '../sql/quote.js';
import type { Client } from './connect.js';
import { redact } from './redact.js';

/**
 * What the shadow database is called on its server, and where the server's user connects
 * while it exists.
 *
 * Usually a generated name (`supagate_shadow_…`), so that runs never meet. But pg_cron can
 * only be created in the database its server names in `cron.database_name` (`postgres` on
 * Supabase's image). On a shadow server declared disposable (it exists only for supagate:
 * `--shadow-disposable`), the shadow database takes that name: the database is dropped, the
 * shadow created in its place, and on dispose it is dropped and created again empty, owned
 * as before. Meanwhile the server's user works from another database (this one when the
 * server URL names the cron database), so it never connects to the shadow database.
 */
export const MAINTENANCE_DATABASE = 'template1';

export function generatedShadowName(): string {
  return `supagate_shadow_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/**
 * `cron.database_name` (undefined when pg_cron is not loaded: there is no such setting), and
 * the database the session is connected to.
 */
export async function cronDatabaseName(
  admin: Client,
): Promise<{ cronDatabase: string | undefined; connectedTo: string }> {
  const { rows } = await admin.query<{ cron: string | null; current: string }>(
    `SELECT current_setting('cron.database_name', true) AS cron, current_database() AS current`,
  );
  const cron = rows[0]?.cron?.trim();
  return { cronDatabase: cron ? cron : undefined, connectedTo: rows[0]?.current ?? '' };
}

/** Owner of the database as it is now, read before it is dropped; undefined when it does not exist. */
export interface ReplacedDatabase {
  owner: string;
}

/**
 * Drops the server's cron database so the shadow can take its name. Refused for a template
 * database, and when the database cannot be dropped (another owner, a session that cannot be
 * ended).
 */
export async function dropCronDatabase(
  admin: Client,
  name: string,
  label: string,
): Promise<ReplacedDatabase | undefined> {
  const { rows } = await admin.query<{ owner: string; template: boolean }>(
    'SELECT pg_get_userbyid(datdba) AS owner, datistemplate AS template FROM pg_database WHERE datname = $1',
    [name],
  );
  const existing = rows[0];
  if (existing?.template || name === 'template0' || name === MAINTENANCE_DATABASE) {
    throw new SupagateError(
      'SHADOW_FAILED',
      `The shadow server ${label} names the template database "${name}" in cron.database_name: it cannot hold the shadow.`,
      { hint: 'Set cron.database_name to an ordinary database (postgres, as on Supabase).' },
    );
  }
  if (!existing) return undefined;
  try {
    await admin.query(`DROP DATABASE ${quoteIdentifier(name)} WITH (FORCE)`);
  } catch (error) {
    throw new SupagateError(
      'SHADOW_FAILED',
      `Could not drop the database "${name}" (cron.database_name) on the disposable shadow server ${label} to plan in it: ${redact(String((error as Error).message ?? error))}`,
      {
        hint: 'With --shadow-disposable the shadow server’s user must be able to drop that database: connect as its owner or a superuser (supabase_admin on a supabase/postgres container). Never use a server that holds anything else.',
        cause: error,
      },
    );
  }
  return { owner: existing.owner };
}

/** Creates the cron database again, empty, owned as it was. */
export async function recreateCronDatabase(
  admin: Client,
  name: string,
  replaced: ReplacedDatabase,
): Promise<void> {
  await admin.query(
    `CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE template0 OWNER ${quoteIdentifier(replaced.owner)}`,
  );
}
