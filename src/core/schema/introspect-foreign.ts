import type pg from 'pg';
import type { aclParser } from './acl.js';
import {
  type AclText,
  commentOf,
  compareText,
  extensionMember,
  type Nullable,
  objectAcl,
  recordOf,
  sortedRecord,
} from './introspect-sql.js';
import type { Constraint, Grant, Trigger } from './model.js';
import {
  type FdwOptions,
  type ForeignDataWrapper,
  type ForeignServer,
  type ForeignTable,
  type ForeignTableColumn,
  REDACTED,
  SECRET_OPTION,
  type UserMapping,
} from './model-foreign.js';

/*
 * Foreign data (issue 13): foreign data wrappers, foreign servers, user mappings and foreign
 * tables, read by introspect() in its second round trip (the foreign tables' columns, CHECK
 * constraints and triggers come with the tables' members in the third).
 *
 * Scope: wrappers, servers and mappings are database-wide: those the user made (oid >= 16384,
 * FirstNormalObjectId) and not an extension's (postgres_fdw's own wrapper is the extension's;
 * Supabase's `wrappers` has the user CREATE FOREIGN DATA WRAPPER stripe_wrapper …, which is
 * the user's). Foreign tables: those of the user schemas, not an extension's.
 *
 * Secret hygiene: option values whose name says they are secret (SECRET_OPTION: key, secret,
 * password, token) are replaced by REDACTED in SQL, so they never leave the database; of user
 * mappings (which hold the remote user's password, an API key…) only the option NAMES are read.
 */

/** Queries of round trip 2, by the name of their result. */
export function foreignQueries(client: pg.Client, userSchemas: string): Record<keyof ForeignRows, string> {
  const options = (column: string) =>
    `(SELECT json_object_agg(o.option_name, CASE WHEN o.option_name ~* ${client.escapeLiteral(SECRET_OPTION.source)}
                                  THEN ${client.escapeLiteral(REDACTED)} ELSE o.option_value END)
        FROM pg_options_to_table(${column}) o)`;
  return {
    foreignDataWrappers: `SELECT quote_ident(w.fdwname) AS id, w.fdwname::text AS name, pg_get_userbyid(w.fdwowner)::text AS owner,
  CASE WHEN w.fdwhandler <> 0 THEN w.fdwhandler::regproc::text END AS handler,
  CASE WHEN w.fdwvalidator <> 0 THEN w.fdwvalidator::regproc::text END AS validator,
  ${options('w.fdwoptions')} AS options, ${commentOf('w.oid', 'pg_foreign_data_wrapper')} AS comment,
  ${objectAcl('w.fdwacl', 'F', 'w.fdwowner')} AS grants
FROM pg_foreign_data_wrapper w
WHERE w.oid >= 16384 AND NOT ${extensionMember('pg_foreign_data_wrapper', 'w.oid')}`,
    foreignServers: `SELECT quote_ident(s.srvname) AS id, s.srvname::text AS name, w.fdwname::text AS wrapper,
  pg_get_userbyid(s.srvowner)::text AS owner, s.srvtype AS type, s.srvversion AS version,
  ${options('s.srvoptions')} AS options, ${commentOf('s.oid', 'pg_foreign_server')} AS comment,
  ${objectAcl('s.srvacl', 'S', 's.srvowner')} AS grants
FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
WHERE s.oid >= 16384 AND NOT ${extensionMember('pg_foreign_server', 's.oid')}`,
    // pg_user_mappings, not the catalog (superusers only); it shows umoptions only to those who
    // may see them (the condition below is the view's): NULL otherwise, read as "not known".
    userMappings: `SELECT CASE WHEN um.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(um.usename) END || '@' || quote_ident(um.srvname) AS id,
  CASE WHEN um.umuser = 0 THEN 'PUBLIC' ELSE um.usename::text END AS "user", um.srvname::text AS server,
  CASE WHEN um.umoptions IS NOT NULL
         THEN ARRAY(SELECT o.option_name::text FROM pg_options_to_table(um.umoptions) o ORDER BY 1)
       WHEN (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
         OR (um.umuser = 0 AND pg_has_role(s.srvowner, 'USAGE'))
         OR (um.umuser <> 0 AND um.usename = current_user
             AND (pg_has_role(s.srvowner, 'USAGE') OR has_server_privilege(s.oid, 'USAGE')))
         THEN '{}'::text[] END AS option_names
FROM pg_user_mappings um JOIN pg_foreign_server s ON s.oid = um.srvid
WHERE um.umid >= 16384 AND NOT ${extensionMember('pg_user_mapping', 'um.umid')}
  AND NOT ${extensionMember('pg_foreign_server', 's.oid')}`,
    foreignTables: `SELECT c.oid AS relid, format('%I.%I', n.nspname, c.relname) AS id, n.nspname::text AS schema,
  c.relname::text AS name, pg_get_userbyid(c.relowner)::text AS owner, s.srvname::text AS server,
  ${options('ft.ftoptions')} AS options, ${commentOf('c.oid', 'pg_class')} AS comment,
  ${objectAcl('c.relacl', 'r', 'c.relowner')} AS grants
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_foreign_server s ON s.oid = ft.ftserver
WHERE c.relkind = 'f' AND c.relnamespace IN (${userSchemas}) AND NOT ${extensionMember('pg_class', 'c.oid')}`,
  };
}

/** A column's FDW options (attfdwoptions), as the columns query selects them. */
export function columnOptionsSql(client: pg.Client): string {
  return `CASE WHEN a.attfdwoptions IS NOT NULL THEN
    (SELECT json_object_agg(o.option_name, CASE WHEN o.option_name ~* ${client.escapeLiteral(SECRET_OPTION.source)}
                                 THEN ${client.escapeLiteral(REDACTED)} ELSE o.option_value END)
       FROM pg_options_to_table(a.attfdwoptions) o) END`;
}

// ---------------------------------------------------------------------------------------------
// Rows

interface WrapperRow {
  id: string;
  name: string;
  owner: string;
  handler: Nullable<string>;
  validator: Nullable<string>;
  options: Nullable<Record<string, string>>;
  comment: Nullable<string>;
  grants: AclText;
}

interface ServerRow {
  id: string;
  name: string;
  wrapper: string;
  owner: string;
  type: Nullable<string>;
  version: Nullable<string>;
  options: Nullable<Record<string, string>>;
  comment: Nullable<string>;
  grants: AclText;
}

interface MappingRow {
  id: string;
  user: string;
  server: string;
  option_names: Nullable<string[]>;
}

export interface ForeignTableRow {
  relid: number;
  id: string;
  schema: string;
  name: string;
  owner: string;
  server: string;
  options: Nullable<Record<string, string>>;
  comment: Nullable<string>;
  grants: AclText;
}

export interface ForeignRows {
  foreignDataWrappers: WrapperRow[];
  foreignServers: ServerRow[];
  userMappings: MappingRow[];
  foreignTables: ForeignTableRow[];
}

/** What a foreign table's columns are read from (the columns query's rows). */
export interface ForeignColumnRow {
  name: string;
  type: string;
  not_null: boolean;
  default: Nullable<string>;
  collation: Nullable<string>;
  comment: Nullable<string>;
  grants: AclText;
  fdw_options?: Nullable<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Rows → model

/** Options with their keys sorted; values of secret options redacted (again: a model may be read from elsewhere). */
export function fdwOptions(options: Nullable<Record<string, string>> | undefined): FdwOptions {
  return sortedRecord(
    Object.entries(options ?? {}).map(([name, value]): [string, string] => [
      name,
      SECRET_OPTION.test(name) ? REDACTED : String(value),
    ]),
  );
}

type Grants = ReturnType<typeof aclParser>;

export function assembleForeign(
  rows: Partial<ForeignRows>,
  grants: Grants,
  membersOf: (relid: number) => {
    columns: ForeignColumnRow[];
    constraints: Constraint[];
    triggers: Record<string, Trigger>;
  },
): {
  foreignDataWrappers: Record<string, ForeignDataWrapper>;
  foreignServers: Record<string, ForeignServer>;
  userMappings: Record<string, UserMapping>;
  foreignTables: Record<string, ForeignTable>;
} {
  const acl = (items: AclText): Grant[] => grants(items);
  return {
    foreignDataWrappers: sortedRecord(
      (rows.foreignDataWrappers ?? []).map((row): [string, ForeignDataWrapper] => [
        row.id,
        {
          name: row.name,
          owner: row.owner,
          handler: row.handler,
          validator: row.validator,
          options: fdwOptions(row.options),
          comment: row.comment,
          grants: acl(row.grants),
        },
      ]),
    ),
    foreignServers: sortedRecord(
      (rows.foreignServers ?? []).map((row): [string, ForeignServer] => [
        row.id,
        {
          name: row.name,
          wrapper: row.wrapper,
          owner: row.owner,
          type: row.type,
          version: row.version,
          options: fdwOptions(row.options),
          comment: row.comment,
          grants: acl(row.grants),
        },
      ]),
    ),
    userMappings: sortedRecord(
      (rows.userMappings ?? []).map((row): [string, UserMapping] => [
        row.id,
        {
          user: row.user,
          server: row.server,
          optionNames: row.option_names === null ? null : [...row.option_names].sort(compareText),
        },
      ]),
    ),
    foreignTables: sortedRecord(
      (rows.foreignTables ?? []).map((row): [string, ForeignTable] => {
        const members = membersOf(row.relid);
        return [
          row.id,
          {
            schema: row.schema,
            name: row.name,
            owner: row.owner,
            server: row.server,
            options: fdwOptions(row.options),
            comment: row.comment,
            columns: members.columns.map(
              (c): ForeignTableColumn => ({
                name: c.name,
                type: c.type,
                notNull: c.not_null,
                default: c.default,
                collation: c.collation,
                options: fdwOptions(c.fdw_options),
                comment: c.comment,
                grants: acl(c.grants),
              }),
            ),
            constraints: recordOf(members.constraints, (c) => c.name),
            ...(Object.keys(members.triggers).length > 0 ? { triggers: members.triggers } : {}),
            grants: acl(row.grants),
          },
        ];
      }),
    ),
  };
}
