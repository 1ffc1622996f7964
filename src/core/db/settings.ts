import { quoteIdentifier, quoteLiteral } from '../sql/quote.js';
import type { Client } from './connect.js';

/**
 * Production's role- and database-level settings (pg_db_role_setting) that shape how a
 * migration's SQL resolves and runs, carried into the shadow database. Supabase sets
 * `search_path = "$user", public, extensions` on postgres and the API roles, so migrations call
 * `gen_random_bytes()` unqualified; without the setting they fail only in the shadow.
 *
 * Every setting is applied to the shadow database alone (`ALTER ROLE … IN DATABASE`,
 * `ALTER DATABASE`): the shadow server may be shared, so nothing is set cluster-wide. Only the
 * allow-listed settings are copied: nothing security-relevant (`role`,
 * `session_authorization`, preload libraries, `row_security`) and no custom GUCs.
 *
 * The migrations' login role only `SET ROLE`s to postgres (migration-role.ts), which does not
 * apply postgres's role settings: it gets postgres's settings for the shadow database too.
 */
export const COPIED_SETTINGS = new Set([
  'search_path',
  'statement_timeout',
  'lock_timeout',
  'check_function_bodies',
  'timezone',
  'datestyle',
  'intervalstyle',
  'bytea_output',
  'default_text_search_config',
  'extra_float_digits',
  'standard_conforming_strings',
]);

/** Settings PostgreSQL stores as a list of (possibly quoted) names: given back as a list, not one literal. */
const LIST_SETTINGS = new Set(['search_path']);

interface SettingRow {
  /** null: a setting of the database itself. */
  role: string | null;
  all_databases: boolean;
  setting: string;
}

/** Copies the settings; returns a warning for each setting the shadow refused. */
export async function copySettings(source: Client, target: Client): Promise<string[]> {
  const { rows } = await source.query<SettingRow>(
    `SELECT r.rolname::text AS role, s.setdatabase = 0 AS all_databases, unnest(s.setconfig) AS setting
       FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
      WHERE s.setdatabase = 0 AND s.setrole <> 0
         OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY s.setdatabase, s.setrole`,
  );
  const { rows: here } = await target.query<{ database: string; migrator: string | null }>(
    `SELECT current_database()::text AS database,
            (SELECT r.rolname::text FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
              WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND 'role=postgres' = ANY (s.setconfig) AND r.rolname <> 'postgres' LIMIT 1) AS migrator`,
  );
  const { database, migrator } = here[0] ?? { database: '', migrator: null };
  const { rows: roles } = await target.query<{ rolname: string }>('SELECT rolname::text FROM pg_roles');
  const present = new Set(roles.map((row) => row.rolname));
  const warnings: string[] = [];
  // All-database settings come first: a per-database one of the same name overrides them.
  for (const row of rows) {
    const assignment = settingAssignment(row.setting);
    if (!assignment) continue;
    const targets =
      row.role === null ? [null] : [row.role, ...(row.role === 'postgres' && migrator ? [migrator] : [])];
    for (const role of targets) {
      if (role !== null && !present.has(role)) continue;
      const subject =
        role === null
          ? `ALTER DATABASE ${quoteIdentifier(database)}`
          : `ALTER ROLE ${quoteIdentifier(role)} IN DATABASE ${quoteIdentifier(database)}`;
      try {
        await target.query(`${subject} SET ${assignment}`);
      } catch (error) {
        warnings.push(
          `setting not copied to the shadow (${role ?? 'database'}): ${row.setting}: ${(error as Error).message}`,
        );
      }
    }
  }
  return warnings;
}

/**
 * Gives `role` postgres's settings in `database`, as copySettings gave them to the migrations'
 * login role of the run that cloned it: for a shadow started from a kept baseline, whose
 * migration role is this run's. Run from any database of the server (the settings are shared).
 */
export async function givePostgresSettings(admin: Client, database: string, role: string): Promise<void> {
  const { rows } = await admin.query<{ setting: string }>(
    `SELECT unnest(s.setconfig) AS setting FROM pg_db_role_setting s
      WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = 'postgres')
        AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = $1)`,
    [database],
  );
  for (const { setting } of rows) {
    const assignment = settingAssignment(setting);
    if (assignment)
      await admin.query(
        `ALTER ROLE ${quoteIdentifier(role)} IN DATABASE ${quoteIdentifier(database)} SET ${assignment}`,
      );
  }
}

/** `search_path="$user", public` → `search_path = "$user", public`; undefined when not copied. */
export function settingAssignment(setting: string): string | undefined {
  const equals = setting.indexOf('=');
  if (equals <= 0) return undefined;
  const name = setting.slice(0, equals).toLowerCase();
  const value = setting.slice(equals + 1);
  if (!COPIED_SETTINGS.has(name)) return undefined;
  if (!LIST_SETTINGS.has(name)) return `${name} = ${quoteLiteral(value)}`;
  const items = splitList(value);
  return items ? `${name} = ${items.join(', ')}` : undefined;
}

/** The names of a stored list, each a plain or quoted identifier; undefined when it is anything else. */
function splitList(value: string): string[] | undefined {
  const items = value.match(/"(?:[^"]|"")*"|[^,]+/g)?.map((item) => item.trim()) ?? [];
  const name = /^(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)$/;
  if (items.length === 0 || !items.every((item) => name.test(item))) return undefined;
  return items;
}
