import type { Client } from '../db/connect.js';
import { AUDIT_TABLE } from '../migrations/history.js';
import { describeList, ident, type Statement } from './errors.js';

/* Drops for the schema the restore keeps (`public`): its objects, privileges, default privileges. */

/** Drop keyword per pg_identify_object() type, for the objects of a kept schema. */
const DROP_KEYWORDS: Record<string, { keyword: string; order: number }> = {
  table: { keyword: 'TABLE', order: 1 },
  'foreign table': { keyword: 'FOREIGN TABLE', order: 1 },
  view: { keyword: 'VIEW', order: 2 },
  'materialized view': { keyword: 'MATERIALIZED VIEW', order: 2 },
  sequence: { keyword: 'SEQUENCE', order: 3 },
  'statistics object': { keyword: 'STATISTICS', order: 3 },
  function: { keyword: 'FUNCTION', order: 4 },
  procedure: { keyword: 'PROCEDURE', order: 4 },
  aggregate: { keyword: 'AGGREGATE', order: 4 },
  operator: { keyword: 'OPERATOR', order: 5 },
  'operator class': { keyword: 'OPERATOR CLASS', order: 5 },
  'operator family': { keyword: 'OPERATOR FAMILY', order: 5 },
  'text search configuration': { keyword: 'TEXT SEARCH CONFIGURATION', order: 5 },
  'text search dictionary': { keyword: 'TEXT SEARCH DICTIONARY', order: 5 },
  'text search parser': { keyword: 'TEXT SEARCH PARSER', order: 6 },
  'text search template': { keyword: 'TEXT SEARCH TEMPLATE', order: 6 },
  collation: { keyword: 'COLLATION', order: 6 },
  conversion: { keyword: 'CONVERSION', order: 6 },
  type: { keyword: 'TYPE', order: 7 },
  domain: { keyword: 'DOMAIN', order: 7 },
};

const DEFAULT_ACL_KEYWORDS: Record<string, string> = {
  r: 'TABLES',
  S: 'SEQUENCES',
  f: 'FUNCTIONS',
  T: 'TYPES',
};

/** DROP statements for the objects of a kept schema: not its extensions' members. */
export async function keptSchemaDrops(
  client: Client,
  oid: number,
): Promise<{ statements: { sql: string; description: string }[]; extensions: string[]; unknown: string[] }> {
  const { rows } = await client.query<{ type: string; identity: string }>(
    `SELECT o.type, o.identity
       FROM pg_depend d CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, 0) AS o
      WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = $1::oid AND d.deptype = 'n'
        AND d.classid <> 'pg_extension'::regclass
        -- A partitioned table depends internally on its own partition key: not a part of something else.
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid AND e.deptype IN ('e', 'i')
                           AND NOT (e.refclassid = e.classid AND e.refobjid = e.objid))`,
    [oid],
  );
  const { rows: extensions } = await client.query<{ name: string }>(
    `SELECT extname AS name FROM pg_extension WHERE extnamespace = $1::oid ORDER BY 1`,
    [oid],
  );
  const statements: { sql: string; description: string; order: number }[] = [];
  const unknown: string[] = [];
  for (const row of rows) {
    // The audit trail is append-only: no restore takes back what it recorded.
    if (row.identity === AUDIT_TABLE) continue;
    const drop = DROP_KEYWORDS[row.type];
    if (!drop) {
      unknown.push(`${row.type} ${row.identity} (the restore cannot drop this kind of object)`);
      continue;
    }
    statements.push({
      sql: `DROP ${drop.keyword} IF EXISTS ${row.identity} CASCADE`,
      description: `${row.type} ${row.identity}`,
      order: drop.order,
    });
  }
  statements.sort((a, b) => a.order - b.order || a.description.localeCompare(b.description));
  return {
    statements: statements.map(({ sql, description }) => ({ sql, description })),
    extensions: extensions.map((e) => e.name),
    unknown,
  };
}

/**
 * GRANT/REVOKE that bring a kept schema's privileges back to those pg_dump compares against
 * (its initial privileges, else the owner's defaults), so that the backup's ACL entry, which
 * holds the differences, reproduces the backup's privileges exactly.
 */
export async function schemaPrivilegeReset(client: Client, oid: number, schema: string): Promise<string[]> {
  const { rows } = await client.query<{
    action: string;
    grantee: string;
    privilege: string;
    grantable: boolean;
  }>(
    `WITH s AS (
       SELECT n.oid, n.nspowner, coalesce(n.nspacl, acldefault('n', n.nspowner)) AS acl,
              coalesce((SELECT i.initprivs FROM pg_init_privs i
                         WHERE i.objoid = n.oid AND i.classoid = 'pg_namespace'::regclass AND i.objsubid = 0),
                       acldefault('n', n.nspowner)) AS base
         FROM pg_namespace n WHERE n.oid = $1::oid
     ), now AS (SELECT (aclexplode(acl)).* FROM s), base AS (SELECT (aclexplode(base)).* FROM s),
     revoke AS (SELECT grantee, privilege_type, is_grantable FROM now EXCEPT SELECT grantee, privilege_type, is_grantable FROM base),
     grant_ AS (SELECT grantee, privilege_type, is_grantable FROM base EXCEPT SELECT grantee, privilege_type, is_grantable FROM now)
     SELECT 'revoke' AS action, CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grantee)) END AS grantee,
            privilege_type AS privilege, is_grantable AS grantable FROM revoke
     UNION ALL
     SELECT 'grant', CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(grantee)) END,
            privilege_type, is_grantable FROM grant_
     ORDER BY 1 DESC, 2, 3`,
    [oid],
  );
  return rows.map((row) =>
    row.action === 'revoke'
      ? `REVOKE ${row.privilege} ON SCHEMA ${ident(schema)} FROM ${row.grantee} CASCADE`
      : `GRANT ${row.privilege} ON SCHEMA ${ident(schema)} TO ${row.grantee}${row.grantable ? ' WITH GRANT OPTION' : ''}`,
  );
}

/** Removes a kept schema's default privileges, of the roles the current user can act for. */
export async function defaultPrivilegeReset(
  client: Client,
  oid: number,
  schema: string,
): Promise<{ statements: string[]; roles: string[] }> {
  const { rows } = await client.query<{ role: string; type: string; grantee: string }>(
    `SELECT DISTINCT quote_ident(pg_get_userbyid(d.defaclrole)) AS role, d.defaclobjtype::text AS type,
            CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee
       FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) AS a
      WHERE d.defaclnamespace = $1::oid AND pg_has_role(current_user, d.defaclrole, 'MEMBER')
      ORDER BY 1, 2, 3`,
    [oid],
  );
  const statements: string[] = [];
  for (const row of rows) {
    const keyword = DEFAULT_ACL_KEYWORDS[row.type];
    if (!keyword) continue;
    statements.push(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${row.role} IN SCHEMA ${ident(schema)} REVOKE ALL ON ${keyword} FROM ${row.grantee} CASCADE`,
    );
  }
  return { statements, roles: [...new Set(rows.map((row) => row.role))] };
}

/** Drops and resets for a kept schema (`public`): its objects, privileges, default privileges, comment. */
export async function keptSchemaStatements(
  client: Client,
  schema: string,
  oid: number,
): Promise<{ before: Statement[]; steps: string[]; unsafe: string[] }> {
  const before: Statement[] = [];
  const steps: string[] = [];
  const unsafe: string[] = [];
  const drops = await keptSchemaDrops(client, oid);
  for (const problem of drops.unknown) unsafe.push(problem);
  for (const drop of drops.statements) before.push({ sql: drop.sql, what: `dropping ${drop.description}` });
  steps.push(
    drops.statements.length === 0
      ? `Schema ${schema} holds no objects to drop`
      : `Drop the ${drops.statements.length} objects of schema ${schema} (${describeList(drops.statements.map((d) => d.description))}), keeping the schema itself${drops.extensions.length > 0 ? ` and the extensions in it (${drops.extensions.join(', ')})` : ''}`,
  );
  const reset = await schemaPrivilegeReset(client, oid, schema);
  if (reset.length > 0) {
    before.push(...reset.map((sql) => ({ sql, what: `resetting the privileges on schema ${schema}` })));
    steps.push(
      `Reset the privileges on schema ${schema} to its initial ones (${reset.length} GRANT/REVOKE); the backup's grants are applied again`,
    );
  }
  const defaults = await defaultPrivilegeReset(client, oid, schema);
  if (defaults.statements.length > 0) {
    before.push(
      ...defaults.statements.map((sql) => ({
        sql,
        what: `removing the default privileges in schema ${schema}`,
      })),
    );
    steps.push(
      `Remove the default privileges in schema ${schema} of ${describeList(defaults.roles.map((r) => `role ${r}`))}; the backup's are applied again`,
    );
  }
  before.push({
    sql: `COMMENT ON SCHEMA ${ident(schema)} IS NULL`,
    what: `clearing the comment on schema ${schema}`,
  });
  return { before, steps, unsafe };
}
