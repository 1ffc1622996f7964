import type { Client } from '../db/connect.js';

export interface ClosureRow {
  catalog: string;
  objid: number;
  description: string;
  inside: boolean;
  internal: boolean;
}

/**
 * Every object a DROP … CASCADE of the dropped schemas and of the kept schemas' objects would
 * reach, through pg_depend: dependents (of a column: only those of that column), and the owner
 * of whatever depends internally on something reached (a view, for its rule). `inside` when
 * the object lives in one of those schemas (so the backup brings it back).
 */
export async function dependencyClosure(
  client: Client,
  droppedOids: number[],
  keptOids: number[],
  insideOids: number[],
): Promise<ClosureRow[]> {
  if (droppedOids.length === 0 && keptOids.length === 0) return [];
  const { rows } = await client.query<ClosureRow & { home: number | null }>(
    `WITH RECURSIVE seed(classid, objid) AS (
       SELECT 'pg_namespace'::regclass::oid, oid FROM pg_namespace WHERE oid = ANY($1::oid[])
       UNION
       SELECT d.classid, d.objid FROM pg_depend d
        WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = ANY($2::oid[]) AND d.deptype = 'n'
          AND d.classid <> 'pg_extension'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid AND e.deptype = 'e')
     ), closure(classid, objid, objsubid) AS (
       SELECT classid, objid, 0 FROM seed
       UNION
       SELECT n.classid, n.objid, n.objsubid FROM closure c CROSS JOIN LATERAL (
         SELECT d.classid, d.objid, d.objsubid FROM pg_depend d
          WHERE d.refclassid = c.classid AND d.refobjid = c.objid AND (c.objsubid = 0 OR d.refobjsubid = c.objsubid)
         UNION ALL
         SELECT d.refclassid, d.refobjid, 0 FROM pg_depend d
          WHERE d.classid = c.classid AND d.objid = c.objid AND d.objsubid = c.objsubid AND d.deptype = 'i'
       ) n
     ), homed AS (
       SELECT c.classid, c.objid, c.objsubid,
              CASE c.classid
                WHEN 'pg_namespace'::regclass THEN c.objid
                WHEN 'pg_class'::regclass THEN (
                  SELECT CASE WHEN r.relnamespace = 'pg_toast'::regnamespace
                              THEN (SELECT o.relnamespace FROM pg_class o
                                     WHERE o.reltoastrelid = coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = r.oid), r.oid))
                              ELSE r.relnamespace END
                    FROM pg_class r WHERE r.oid = c.objid)
                WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = c.objid)
                WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = c.objid)
                WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = c.objid)
                WHEN 'pg_trigger'::regclass THEN (SELECT r.relnamespace FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid WHERE t.oid = c.objid)
                WHEN 'pg_policy'::regclass THEN (SELECT r.relnamespace FROM pg_policy p JOIN pg_class r ON r.oid = p.polrelid WHERE p.oid = c.objid)
                WHEN 'pg_rewrite'::regclass THEN (SELECT r.relnamespace FROM pg_rewrite w JOIN pg_class r ON r.oid = w.ev_class WHERE w.oid = c.objid)
                WHEN 'pg_attrdef'::regclass THEN (SELECT r.relnamespace FROM pg_attrdef a JOIN pg_class r ON r.oid = a.adrelid WHERE a.oid = c.objid)
                WHEN 'pg_operator'::regclass THEN (SELECT oprnamespace FROM pg_operator WHERE oid = c.objid)
                WHEN 'pg_opclass'::regclass THEN (SELECT opcnamespace FROM pg_opclass WHERE oid = c.objid)
                WHEN 'pg_opfamily'::regclass THEN (SELECT opfnamespace FROM pg_opfamily WHERE oid = c.objid)
                WHEN 'pg_amop'::regclass THEN (SELECT f.opfnamespace FROM pg_amop a JOIN pg_opfamily f ON f.oid = a.amopfamily WHERE a.oid = c.objid)
                WHEN 'pg_amproc'::regclass THEN (SELECT f.opfnamespace FROM pg_amproc a JOIN pg_opfamily f ON f.oid = a.amprocfamily WHERE a.oid = c.objid)
                WHEN 'pg_collation'::regclass THEN (SELECT collnamespace FROM pg_collation WHERE oid = c.objid)
                WHEN 'pg_conversion'::regclass THEN (SELECT connamespace FROM pg_conversion WHERE oid = c.objid)
                WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxnamespace FROM pg_statistic_ext WHERE oid = c.objid)
                WHEN 'pg_ts_config'::regclass THEN (SELECT cfgnamespace FROM pg_ts_config WHERE oid = c.objid)
                WHEN 'pg_ts_dict'::regclass THEN (SELECT dictnamespace FROM pg_ts_dict WHERE oid = c.objid)
                WHEN 'pg_ts_parser'::regclass THEN (SELECT prsnamespace FROM pg_ts_parser WHERE oid = c.objid)
                WHEN 'pg_ts_template'::regclass THEN (SELECT tmplnamespace FROM pg_ts_template WHERE oid = c.objid)
                WHEN 'pg_default_acl'::regclass THEN (SELECT defaclnamespace FROM pg_default_acl WHERE oid = c.objid)
              END AS home
         FROM closure c
     )
     SELECT h.classid::regclass::text AS catalog, h.objid::int8::float8 AS objid, h.home::int8::float8 AS home,
            coalesce(h.home = ANY($3::oid[]), false) AS inside,
            EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = h.classid AND i.objid = h.objid AND i.deptype = 'i'
                      AND NOT (i.refclassid = i.classid AND i.refobjid = i.objid)) AS internal,
            pg_describe_object(h.classid, h.objid, h.objsubid) AS description
       FROM homed h`,
    [droppedOids, keptOids, insideOids],
  );
  return rows.map((row) => ({ ...row, objid: Number(row.objid) }));
}
