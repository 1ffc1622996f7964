/**
 * Facts about the Supabase platform the rest of supagate respects: which schemas, extensions,
 * publications and tables are Supabase's rather than the app's. Foundation: imports nothing.
 */

/** Schemas Supabase manages: never read as user schema (see DESIGN.md). */
export const MANAGED_SCHEMAS = [
  'auth',
  'storage',
  'realtime',
  '_realtime',
  'extensions',
  'graphql',
  'graphql_public',
  'pgbouncer',
  'pgsodium',
  'pgsodium_masks',
  'vault',
  'supabase_functions',
  'supabase_migrations',
  'cron',
  'net',
  'pg_catalog',
  'information_schema',
  'pg_toast',
] as const;

/**
 * What kind of database a schema is read from: a Supabase project, whose MANAGED_SCHEMAS are the
 * platform's, or a plain PostgreSQL, where a schema named `extensions` or `auth` is the user's
 * like any other (only PostgreSQL's own are left out). `supagate diff` decides once for both
 * sides: plain only when neither is a Supabase project.
 */
export type Platform = 'supabase' | 'plain';

/** Schemas that are not the user's on that platform (pg_temp_*, pg_toast_* are left out apart). */
export function nonUserSchemas(platform: Platform = 'supabase'): readonly string[] {
  return platform === 'supabase' ? MANAGED_SCHEMAS : ['pg_catalog', 'information_schema', 'pg_toast'];
}

/** Extensions every Supabase project has from the start; any other one is the project's own. */
export const PLATFORM_EXTENSIONS: ReadonlySet<string> = new Set([
  'plpgsql',
  'pgcrypto',
  'uuid-ossp',
  'pg_stat_statements',
  'pg_graphql',
  'supabase_vault',
  'pgjwt',
  'pgsodium',
]);

/** Publications Supabase creates (tables are added to them by migrations or the dashboard). */
export const PLATFORM_PUBLICATIONS: ReadonlySet<string> = new Set([
  'supabase_realtime',
  'supabase_realtime_messages_publication',
]);

/** Managed tables whose policies, RLS flags and grants migrations may change (storage, Realtime Authorization), and plans show. */
export const POLICY_TRACKED_MANAGED_TABLES = [
  'storage.objects',
  'storage.buckets',
  'realtime.messages',
] as const;

/**
 * Managed tables introspected for what migrations put on them: the policy-tracked ones, and
 * auth.users, where apps add the sign-up trigger (handle_new_user). Their triggers that run a
 * function outside the managed schemas are the app's and are planned, diffed and drifted.
 */
export const TRACKED_MANAGED_TABLES = [...POLICY_TRACKED_MANAGED_TABLES, 'auth.users'] as const;

/**
 * Managed tables whose rows migrations create (buckets, and objects through them): counted
 * around an apply. Not realtime.messages: Realtime inserts and expires its rows all the time.
 */
export const ROW_TRACKED_MANAGED_TABLES = ['storage.buckets', 'storage.objects'] as const;

/**
 * Managed tables whose policies (and RLS switches) belong to the application but whose rows do
 * not: backups record their policies, and a restore puts them back.
 */
export const POLICY_ONLY_MANAGED_TABLES = ['realtime.messages'] as const;

/** Schemas PostgREST exposes by default; lints about the API use them. */
export const DEFAULT_API_SCHEMAS = ['public', 'graphql_public'] as const;
