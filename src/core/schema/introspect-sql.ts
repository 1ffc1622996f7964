/*
 * SQL fragments and row helpers shared by the catalog queries (introspect-*.ts, kinds/,
 * not-compared.ts).
 */

export type Nullable<T> = T | null;

/** A text[] literal of the values, each quoted by the connection (client.escapeLiteral). */
export function textArray(
  client: { escapeLiteral(value: string): string },
  values: readonly string[],
): string {
  return `ARRAY[${values.map((value) => client.escapeLiteral(value)).join(', ')}]::text[]`;
}
/** aclitems in their text form, or null for an empty ACL. */
export type AclText = Nullable<string[]>;

/** True when the object belongs to an extension (it is the extension's, not the user's). */
export function extensionMember(catalog: string, oid: string): string {
  return `EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${catalog}'::regclass AND dep.objid = ${oid} AND dep.deptype = 'e')`;
}

/**
 * An ACL as text[] of aclitems (`grantee=privileges/grantor`), parsed by parseAcl(): the items
 * aclexplode() would expand, an order of magnitude cheaper to produce for thousands of objects.
 */
export function aclOf(acl: string): string {
  return `${acl}::text[]`;
}

/** The ACL of an object whose NULL ACL means its owner's defaults (acldefault). */
export function objectAcl(acl: string, kind: string, owner: string): string {
  return aclOf(`coalesce(${acl}, acldefault('${kind}', ${owner}))`);
}

/** The comment of an object (objsubid 0) or of a column (objsubid attnum). */
export function commentOf(oid: string, catalog: string, subid = '0'): string {
  return `(SELECT ds.description FROM pg_description ds
     WHERE ds.objoid = ${oid} AND ds.classoid = '${catalog}'::regclass AND ds.objsubid = ${subid})`;
}

/** `schema.name(argument types)` of the function with the given pg_proc and pg_namespace aliases. */
export function routineIdentity(proc: string, namespace: string): string {
  return `format('%I.%I(%s)', ${namespace}.nspname, ${proc}.proname, oidvectortypes(${proc}.proargtypes))`;
}

/** A collation's name (qualified unless in pg_catalog, like format_type) when it differs from the type's. */
export function collationOf(collation: string, typeCollation: string): string {
  return `CASE WHEN ${collation} <> ${typeCollation} THEN ${collation}::regcollation::text END`;
}

/** Names of the attributes of a relation, in the order of an int2[] of attnums. */
export function attributeNames(attnums: string, relation: string): string {
  return `ARRAY(SELECT a.attname::text FROM unnest(${attnums}) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = ${relation} AND a.attnum = k.attnum ORDER BY k.ord)`;
}

export function oidArray(oids: number[]): string {
  return `'{${oids.map((oid) => Math.trunc(oid)).join(',')}}'::oid[]`;
}

/** Code-unit order: the same everywhere, whatever the database's collation. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A record of the items keyed by `key`, its keys in sorted order. */
export function recordOf<T>(items: T[], key: (item: T) => string): Record<string, T> {
  return sortedRecord(items.map((item): [string, T] => [key(item), item]));
}

/** A record of the entries, its keys in sorted order. */
export function sortedRecord<T>(entries: [string, T][]): Record<string, T> {
  entries.sort((a, b) => compareText(a[0], b[0]));
  const record: Record<string, T> = {};
  for (const [key, value] of entries) record[key] = value;
  return record;
}
