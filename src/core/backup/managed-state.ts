import type { Client } from '../db/connect.js';
import { HISTORY_SCHEMA } from '../migrations/history.js';
import { MANAGED_SCHEMAS } from '../platform.js';

/**
 * What migrations change outside the schemas a backup dumps, recorded in the manifest so that a
 * restore can give it back: extensions (pg_dump --schema dumps none) and the triggers on
 * Supabase's own tables (`on auth.users … execute function public.handle_new_user()`).
 */
export interface ManagedState {
  extensions: ExtensionRecord[];
  triggers: TriggerRecord[];
  /**
   * The Supabase-managed schemas that exist (a migration may create one, `vault` on a project
   * that had none: a restore drops it). Absent in manifests written before it was recorded.
   */
  schemas?: string[];
}

export interface ExtensionRecord {
  name: string;
  schema: string;
  version: string;
}

export interface TriggerRecord {
  /** `schema.table`, quoted as PostgreSQL quotes identifiers. */
  table: string;
  name: string;
  /** pg_get_triggerdef(): the CREATE TRIGGER statement. */
  definition: string;
  /** pg_trigger.tgenabled: O (origin), D (disabled), R (replica), A (always). */
  enabled: string;
  comment: string | null;
}

export const MANAGED_TABLE_SCHEMAS = MANAGED_SCHEMAS.filter((schema) => schema !== HISTORY_SCHEMA);

export async function readManagedState(client: Client): Promise<ManagedState> {
  return {
    extensions: await readExtensions(client),
    triggers: await readManagedTriggers(client),
    schemas: await readManagedSchemas(client),
  };
}

async function readManagedSchemas(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT nspname::text AS name FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY 1',
    [MANAGED_TABLE_SCHEMAS],
  );
  return rows.map((row) => row.name);
}

export async function readExtensions(client: Client): Promise<ExtensionRecord[]> {
  const { rows } = await client.query<ExtensionRecord>(
    `SELECT e.extname AS name, n.nspname AS schema, e.extversion AS version
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
      ORDER BY 1`,
  );
  return rows;
}

/** User triggers on tables of Supabase-managed schemas (not those of an extension's tables). */
export async function readManagedTriggers(client: Client): Promise<TriggerRecord[]> {
  // pg_get_triggerdef() qualifies the function only when the search_path does not find it.
  const { rows: saved } = await client.query<{ path: string }>(
    `SELECT current_setting('search_path') AS path, set_config('search_path', '', true)`,
  );
  const { rows } = await client.query<TriggerRecord>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS table, t.tgname AS name,
            pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled,
            obj_description(t.oid, 'pg_trigger') AS comment
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND NOT t.tgisinternal AND t.tgparentid = 0
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
      ORDER BY 1, 2`,
    [MANAGED_TABLE_SCHEMAS],
  );
  await client.query(`SELECT set_config('search_path', $1, true)`, [saved[0]?.path ?? '']);
  return rows;
}

export function sameTrigger(a: TriggerRecord, b: TriggerRecord): boolean {
  return (
    a.table === b.table &&
    a.name === b.name &&
    a.definition === b.definition &&
    a.enabled === b.enabled &&
    a.comment === b.comment
  );
}
