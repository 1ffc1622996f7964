import type { BackupManifest, PolicySnapshot } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { ident, literal, type Statement } from './errors.js';
import { addMembershipSql, createPolicySql } from './policies.js';
import type { TocEntry } from './toc.js';

/*
 * Objects outside the restored schemas that depend on what the restore replaces: what can be put
 * back exactly (triggers whose function the backup has, publication memberships) and what cannot
 * (rows of other tables referencing the replaced rows).
 */

export interface RecreatedTrigger {
  table: string;
  name: string;
  function: string;
}

/** Triggers on other tables calling a function the restore replaces: re-created when the backup has that function. */
export async function recreatableTriggers(
  client: Client,
  triggerOids: number[],
  insideOids: number[],
  toc: TocEntry[],
): Promise<{ after: Statement[]; unsafe: string[]; recreated: RecreatedTrigger[] }> {
  const after: Statement[] = [];
  const unsafe: string[] = [];
  const recreatedTriggers: RecreatedTrigger[] = [];
  if (triggerOids.length > 0) {
    const { rows } = await client.query<{
      oid: number;
      name: string;
      table: string;
      internal: boolean;
      parent: number;
      enabled: string;
      definition: string;
      comment: string | null;
      function_schema: string;
      function_tag: string;
      function_signature: string;
      function_inside: boolean;
      description: string;
    }>(
      `SELECT t.oid::int8::float8 AS oid, t.tgname AS name, format('%I.%I', n.nspname, c.relname) AS table,
              t.tgisinternal AS internal, t.tgparentid::int8::float8 AS parent, t.tgenabled::text AS enabled,
              pg_get_triggerdef(t.oid) AS definition, obj_description(t.oid, 'pg_trigger') AS comment,
              pn.nspname AS function_schema,
              p.proname || '(' || coalesce((SELECT string_agg(format_type(a.t, NULL), ', ' ORDER BY a.i)
                                              FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)), '') || ')' AS function_tag,
              p.oid::regprocedure::text AS function_signature,
              p.pronamespace = ANY($2::oid[]) AS function_inside,
              pg_describe_object('pg_trigger'::regclass, t.oid, 0) AS description
         FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
        WHERE t.oid = ANY($1::oid[])
        ORDER BY 3, 2`,
      [triggerOids, insideOids],
    );
    const recreated = new Set<number>();
    for (const row of rows) {
      if (row.internal || Number(row.parent) !== 0) continue;
      const inBackup = toc.some(
        (entry) =>
          entry.type === 'FUNCTION' &&
          entry.schema === row.function_schema &&
          entry.rest.startsWith(`${row.function_tag} `),
      );
      if (!row.function_inside || !inBackup) {
        unsafe.push(
          row.function_inside
            ? `${row.description} (it calls ${row.function_signature}, which the backup does not have)`
            : row.description,
        );
        continue;
      }
      recreated.add(Number(row.oid));
      recreatedTriggers.push({ table: row.table, name: row.name, function: row.function_signature });
      after.push({ sql: row.definition, what: `re-creating ${row.description}` });
      const state = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' }[row.enabled];
      if (state) {
        after.push({
          sql: `ALTER TABLE ${row.table} ${state} TRIGGER ${ident(row.name)}`,
          what: `re-creating ${row.description}`,
        });
      }
      if (row.comment !== null) {
        after.push({
          sql: `COMMENT ON TRIGGER ${ident(row.name)} ON ${row.table} IS ${literal(row.comment)}`,
          what: `re-creating ${row.description}`,
        });
      }
    }
    for (const row of rows) {
      if (row.internal) continue;
      if (Number(row.parent) !== 0 && !recreated.has(Number(row.parent))) unsafe.push(row.description);
    }
  }
  return { after, unsafe, recreated: recreatedTriggers };
}

/**
 * Publication memberships: pg_dump --schema does not dump them. A manifest that recorded them
 * gives the backup's; an older one only lets the current ones be re-added when the table is back.
 */
export async function publicationRestores(
  client: Client,
  manifest: BackupManifest,
  publicationRelOids: number[],
  publicationSchemaOids: number[],
): Promise<{ after: Statement[]; steps: string[] }> {
  const after: Statement[] = [];
  const publicationSteps: string[] = [];
  if (manifest.publications) {
    for (const membership of manifest.publications) {
      after.push({
        sql: addMembershipSql(membership),
        what: `adding ${membership.table} to publication ${membership.publication}`,
      });
      publicationSteps.push(`${membership.table} to publication ${membership.publication}`);
    }
  } else if (publicationRelOids.length > 0) {
    const { rows } = await client.query<{
      publication: string;
      table: string;
      relkind: string;
      qual: string | null;
      columns: string | null;
    }>(
      `SELECT p.pubname AS publication, format('%I.%I', n.nspname, c.relname) AS table, c.relkind::text AS relkind,
              pg_get_expr(pr.prqual, pr.prrelid) AS qual,
              (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs::int2[])) AS columns
         FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
         JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE pr.oid = ANY($1::oid[])
        ORDER BY 1, 2`,
      [publicationRelOids],
    );
    for (const row of rows) {
      const add = `ALTER PUBLICATION ${ident(row.publication)} ADD TABLE ${row.relkind === 'p' ? '' : 'ONLY '}${row.table}${row.columns ? ` (${row.columns})` : ''}${row.qual ? ` WHERE (${row.qual})` : ''}`;
      after.push({
        // Only when the backup has the table (one created after the backup stays gone).
        sql: `DO $supagate$ BEGIN
                IF to_regclass(${literal(row.table)}) IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
                   WHERE p.pubname = ${literal(row.publication)} AND pr.prrelid = to_regclass(${literal(row.table)})) THEN
                  EXECUTE ${literal(add)};
                END IF;
              END $supagate$`,
        what: `re-adding ${row.table} to publication ${row.publication}`,
      });
      publicationSteps.push(`${row.table} to publication ${row.publication}`);
    }
  }
  if (publicationSchemaOids.length > 0) {
    const { rows } = await client.query<{ publication: string; schema: string }>(
      `SELECT p.pubname AS publication, n.nspname AS schema
         FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid JOIN pg_namespace n ON n.oid = pn.pnnspid
        WHERE pn.oid = ANY($1::oid[]) ORDER BY 1, 2`,
      [publicationSchemaOids],
    );
    for (const row of rows) {
      after.push({
        sql: `ALTER PUBLICATION ${ident(row.publication)} ADD TABLES IN SCHEMA ${ident(row.schema)}`,
        what: `re-adding schema ${row.schema} to publication ${row.publication}`,
      });
      publicationSteps.push(`the tables of schema ${row.schema} to publication ${row.publication}`);
    }
  }
  return { after, steps: publicationSteps };
}

/**
 * Rows of other tables referencing the tables whose rows are replaced would block the delete
 * (or be deleted with them).
 */
export async function referencingRows(
  client: Client,
  partialOids: number[],
  insideOids: number[],
): Promise<string[]> {
  const unsafe: string[] = [];
  if (partialOids.length > 0) {
    const { rows } = await client.query<{ referencing: string; constraint: string; referenced: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS referencing, con.conname AS constraint,
              format('%I.%I', rn.nspname, r.relname) AS referenced
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class r ON r.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
        WHERE con.contype = 'f' AND con.confrelid = ANY($1::oid[]) AND NOT con.conrelid = ANY($1::oid[])
          AND NOT c.relnamespace = ANY($2::oid[])
        ORDER BY 1, 2`,
      [partialOids, insideOids],
    );
    for (const row of rows) {
      const { rows: any } = await client.query<{ found: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM ${row.referencing}) AS found`,
      );
      if (any[0]?.found) {
        unsafe.push(
          `rows of table ${row.referencing} (constraint ${row.constraint} references ${row.referenced}, whose rows the restore replaces)`,
        );
      }
    }
  }
  return unsafe;
}

/**
 * Policies on tables outside the restore that use what it replaces. Those of the tables whose rows
 * it restores come back with them, those of the policy-only tables are put back as recorded; any
 * other would be lost: unsafe, with the SQL that drops it before the restore and creates it after.
 */
export async function policiesOnOtherTables(
  client: Client,
  policyOids: number[],
  partialOids: number[],
  policyOnlyOids: number[],
): Promise<{ cascaded: Set<string>; unsafe: string[]; fix: string[] }> {
  const cascaded = new Set<string>();
  const unsafe: string[] = [];
  const drops: string[] = [];
  const creates: string[] = [];
  if (policyOids.length === 0) return { cascaded, unsafe, fix: [] };
  // search_path is empty here: expressions come back schema-qualified, valid anywhere.
  const { rows } = await client.query<
    PolicySnapshot & { table_oid: number; table: string; description: string }
  >(
    `SELECT p.polrelid::int8::float8 AS table_oid, format('%I.%I', n.nspname, c.relname) AS table, p.polname AS name,
            pg_describe_object('pg_policy'::regclass, p.oid, 0) AS description,
            CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
            p.polpermissive AS permissive,
            ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) AS r) AS roles,
            pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS "withCheck"
       FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE p.oid = ANY($1::oid[]) ORDER BY 2, 3`,
    [policyOids],
  );
  for (const row of rows) {
    if (partialOids.includes(Number(row.table_oid))) {
      cascaded.add(`${row.table_oid}\u0000${row.name}`);
    } else if (!policyOnlyOids.includes(Number(row.table_oid))) {
      unsafe.push(row.description);
      drops.push(`DROP POLICY ${ident(row.name)} ON ${row.table}`);
      creates.push(createPolicySql(row.table, row));
    }
  }
  return { cascaded, unsafe, fix: [...drops, ...creates] };
}
