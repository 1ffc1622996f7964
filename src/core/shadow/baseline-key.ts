import { createHash } from 'node:crypto';
import { targetFingerprint } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { MANAGED_SCHEMAS } from '../platform.js';
import { fingerprintOf } from '../schema/fingerprint.js';
import { textArray } from '../schema/introspect-sql.js';
import type { SchemaModel } from '../schema/model.js';
import { type NotComparedKind, notCompared } from '../schema/not-compared.js';
import { VERSION } from '../version.js';

/*
 * The key of a cached shadow baseline: everything that shapes the shadow before any migration
 * runs, so that two plans with the same key would restore the same thing.
 *
 * - production: which database (host, port, name: a baseline never serves another target), the
 *   fingerprint of its schema model (what the plan reads anyway), the user's objects the model
 *   does not represent, and what the clone copies that the model leaves out: roles and their
 *   memberships, the database's and roles' settings, and the Supabase-managed schemas' own
 *   tables, columns, functions, triggers, policies and grants (a platform upgrade changes
 *   those);
 * - the shadow: its PostgreSQL version and programs, and supagate's version (its clone and its
 *   stand-in extensions);
 * - the plan: the schemas it reads.
 */

export interface BaselineKeyInputs {
  productionUrl: string;
  productionModel: SchemaModel;
  /** config.schemas. */
  schemas: string[] | undefined;
  /** What the shadow server is (embedded: its `postgres --version`). */
  shadowServer: string;
}

/** What the key reads of production besides its model. */
export interface KeyReadings {
  platform: string;
  notCompared: NotComparedKind[];
}

/** Production's platform digest and its objects not compared, in one session. */
export async function readingsOf(production: Client, schemas: string[] | undefined): Promise<KeyReadings> {
  const scope = schemas ? { schemas } : {};
  const [platform, uncompared] = await Promise.all([
    platformDigest(production),
    notCompared(production, scope) as Promise<NotComparedKind[]>,
  ]);
  return { platform, notCompared: uncompared };
}

export function baselineKey(readings: KeyReadings, inputs: BaselineKeyInputs): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        format: 2,
        supagate: VERSION,
        target: targetFingerprint(inputs.productionUrl),
        schema: fingerprintOf(inputs.productionModel),
        notCompared: readings.notCompared,
        platform: readings.platform,
        schemas: inputs.schemas ?? null,
        shadow: inputs.shadowServer,
      }),
    )
    .digest('hex');
}

/** One md5 over what the clone copies besides the user schemas (see above), in one round trip. */
async function platformDigest(client: Client): Promise<string> {
  const managed = textArray(client, MANAGED_SCHEMAS);
  const inManaged = (namespace: string) =>
    `${namespace} IN (SELECT n.oid FROM pg_namespace n WHERE n.nspname = ANY (${managed}) AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))`;
  const parts = [
    `SELECT 'role ' || r.rolname || ' ' || concat_ws(',', r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb,
       r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil) FROM pg_roles r`,
    `SELECT 'member ' || m.roleid::regrole || ' ' || m.member::regrole || ' ' || m.admin_option FROM pg_auth_members m`,
    `SELECT 'setting ' || coalesce(s.setrole::regrole::text, '*') || ' ' || (s.setdatabase = 0) || ' ' || array_to_string(s.setconfig, ',')
     FROM pg_db_role_setting s
     WHERE s.setdatabase IN (0, (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))`,
    `SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '') || ' ' ||
       coalesce((SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod) || ':' || a.attnotnull || ':' ||
         coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''), ',' ORDER BY a.attnum)
         FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
     FROM pg_class c WHERE ${inManaged('c.relnamespace')} AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')`,
    `SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE ${inManaged('c.relnamespace')}`,
    `SELECT 'constraint ' || co.conrelid::regclass || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
     FROM pg_constraint co WHERE ${inManaged('co.connamespace')}`,
    `SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE ${inManaged('c.relnamespace')} AND NOT t.tgisinternal`,
    `SELECT 'policy ' || p.polrelid::regclass || ' ' || p.polname || ' ' || p.polcmd::text || ' ' || p.polpermissive || ' ' ||
       coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') || ' ' ||
       array_to_string(p.polroles::regrole[], ',')
     FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE ${inManaged('c.relnamespace')}`,
    `SELECT 'function ' || f.oid::regprocedure || ' ' || md5(f.prosrc) || ' ' || f.prosecdef || ' ' ||
       coalesce(array_to_string(f.proconfig, ','), '') || ' ' || coalesce(f.proacl::text, '') || ' ' ||
       pg_get_function_result(f.oid)
     FROM pg_proc f WHERE ${inManaged('f.pronamespace')}`,
    `SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text FROM pg_type t
     WHERE ${inManaged('t.typnamespace')} AND t.typtype IN ('e', 'd', 'r', 'b')`,
    `SELECT 'schema ' || n.nspname || ' ' || pg_get_userbyid(n.nspowner) || ' ' || coalesce(n.nspacl::text, '')
     FROM pg_namespace n WHERE n.nspname = ANY (${managed})`,
  ];
  const statements = [
    'BEGIN READ ONLY',
    'SET LOCAL search_path = pg_catalog',
    'SET LOCAL jit = off',
    `SELECT md5(coalesce(string_agg(line, E'\\n' ORDER BY line COLLATE "C"), '')) AS digest
     FROM (${parts.join('\nUNION ALL\n')}) lines (line)`,
    'COMMIT',
  ];
  try {
    const results = (await client.query(statements.join(';\n'))) as unknown as {
      rows: { digest: string }[];
    }[];
    return results[3]?.rows[0]?.digest ?? '';
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
