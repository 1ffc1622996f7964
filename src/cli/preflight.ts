import { connect, disconnect } from '../core/db/connect.js';
import { SupagateError } from '../core/errors.js';

/**
 * supagate works on Supabase projects: their database has the auth schema with auth.users
 * (RLS policies, verification probes and the shadow's platform part rely on it). A plain
 * PostgreSQL is said so before any work, not found out deep inside as "schema auth does not
 * exist". No database given: the command itself says so.
 */
export async function assertSupabaseDatabase(url: string | undefined, setting: string): Promise<void> {
  if (!url) return;
  const connection = await connect(url, { readOnly: true, applicationName: 'supagate', setting });
  try {
    const { rows } = await connection.client.query<{ schema: boolean; users: boolean }>(
      `SELECT to_regnamespace('auth') IS NOT NULL AS schema, to_regclass('auth.users') IS NOT NULL AS users`,
    );
    const found = rows[0];
    if (found?.schema && found.users) return;
    throw new SupagateError(
      'TARGET_NOT_SUPABASE',
      `${connection.target.label} is not a Supabase database: it has no ${found?.schema ? 'auth.users table' : 'auth schema'}`,
      {
        hint:
          'supagate plans, applies and verifies the migrations of Supabase projects, whose database has the auth schema ' +
          `(auth.users). Check that ${setting} names the project's database (Supabase: Project Settings > Database > ` +
          'Connection string; local: `supabase start`, then postgresql://postgres:postgres@127.0.0.1:54322/postgres).',
        details: { setting, target: connection.target.label },
      },
    );
  } finally {
    await disconnect(connection);
  }
}
