import type { Constraint, Grant, Trigger } from './model.js';

/** Foreign data: wrappers, servers, user mappings and foreign tables (Supabase's Wrappers). */

/**
 * FDW options (`OPTIONS (host 'db', api_key '…')`): option name → value, keys sorted.
 *
 * Secret hygiene: the value of an option whose name contains `key`, `secret`, `password` or
 * `token` (see SECRET_OPTION: `api_key`, `password`, `client_secret`, `token`…) is never read:
 * introspection stores REDACTED in its place, so the model, the normalized DDL, plans, reports
 * and backups never hold it. Such a value changing is therefore not a change the diff can see.
 */
export type FdwOptions = Record<string, string>;

/** Option names whose values are secrets: never read, never shown (see FdwOptions). */
export const SECRET_OPTION = /key|secret|password|token/i;

/** What a secret option's value (and every user mapping option's value) is shown as. */
export const REDACTED = '…';

export interface ForeignDataWrapper {
  name: string;
  owner: string;
  /** The handler function (`extensions.stripe_fdw_handler`), or null (NO HANDLER). */
  handler: string | null;
  /** The validator function, or null (NO VALIDATOR). */
  validator: string | null;
  options: FdwOptions;
  comment: string | null;
  /** USAGE grants. */
  grants: Grant[];
}

export interface ForeignServer {
  name: string;
  /** The foreign data wrapper's name. */
  wrapper: string;
  owner: string;
  /** TYPE '…', or null. */
  type: string | null;
  /** VERSION '…', or null. */
  version: string | null;
  options: FdwOptions;
  comment: string | null;
  /** USAGE grants. */
  grants: Grant[];
}

export interface UserMapping {
  /** The role's name, or `PUBLIC`. */
  user: string;
  /** The server's name. */
  server: string;
  /**
   * The NAMES of its options, sorted; never their values (user mappings hold passwords and API
   * keys). null when the reading role may not see them (pg_user_mappings shows a mapping's
   * options only to superusers, the mapped user and the server's owner): not compared then.
   */
  optionNames: string[] | null;
}

export interface ForeignTableColumn {
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
  /** Only when it differs from the type's default collation. */
  collation: string | null;
  /** The column's FDW options (`column_name 'Id'`). */
  options: FdwOptions;
  comment: string | null;
  /** Column-level privileges. */
  grants: Grant[];
}

export interface ForeignTable {
  schema: string;
  name: string;
  owner: string;
  /** The foreign server's name. */
  server: string;
  /** The table's FDW options (`schema_name 'public'`, `table_name 'orders'`, `object 'customers'`). */
  options: FdwOptions;
  comment: string | null;
  /** In attnum order. */
  columns: ForeignTableColumn[];
  /** CHECK constraints (the only kind a foreign table has). */
  constraints: Record<string, Constraint>;
  /** Triggers (as a table's), present only when any. */
  triggers?: Record<string, Trigger>;
  /** Expanded as a table's are (a NULL ACL is the owner's defaults). */
  grants: Grant[];
}
