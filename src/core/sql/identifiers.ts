/**
 * Identifiers as PostgreSQL's quote_ident() writes them, and the model's identities built from
 * them (`public."Order"`). Foundation: imports nothing. (sql/quote.ts quotes every identifier,
 * for SQL that supagate builds itself.)
 */
/**
 * Key words that quote_ident() quotes: every category but UNRESERVED_KEYWORD (reserved,
 * type/function-name and column-name key words), as in PostgreSQL 15's kwlist.h.
 */
const QUOTED_KEYWORDS_15 = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization between bigint binary bit ' +
    'boolean both case cast char character check coalesce collate collation column concurrently ' +
    'constraint create cross current_catalog current_date current_role current_schema current_time ' +
    'current_timestamp current_user dec decimal default deferrable desc distinct do else end except ' +
    'exists extract false fetch float for foreign freeze from full grant greatest group grouping ' +
    'having ilike in initially inner inout int integer intersect interval into is isnull join ' +
    'lateral leading least left like limit localtime localtimestamp national natural nchar none ' +
    'normalize not notnull null nullif numeric offset on only or order out outer overlaps overlay ' +
    'placing position precision primary real references returning right row select session_user ' +
    'setof similar smallint some substring symmetric table tablesample then time timestamp to ' +
    'trailing treat trim true union unique user using values varchar variadic verbose when where ' +
    'window with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi ' +
    'xmlroot xmlserialize xmltable'
  ).split(' '),
);
/** Added in PostgreSQL 16 (SQL/JSON constructors, SYSTEM_USER). */
const QUOTED_KEYWORDS_16 = [
  'json',
  'json_array',
  'json_arrayagg',
  'json_object',
  'json_objectagg',
  'system_user',
];
/** Added in PostgreSQL 17 (SQL/JSON query functions, JSON_TABLE, MERGE's merge_action()). */
const QUOTED_KEYWORDS_17 = [
  'json_exists',
  'json_query',
  'json_scalar',
  'json_serialize',
  'json_table',
  'json_value',
  'merge_action',
];

function isQuotedKeyword(word: string, serverVersion: number): boolean {
  if (QUOTED_KEYWORDS_15.has(word)) return true;
  const version = serverVersion > 0 ? serverVersion : Number.POSITIVE_INFINITY;
  if (version >= 160000 && QUOTED_KEYWORDS_16.includes(word)) return true;
  return version >= 170000 && QUOTED_KEYWORDS_17.includes(word);
}

/**
 * An identifier as PostgreSQL's quote_ident() writes it: bare when it is lower-case letters,
 * digits and underscores, does not start with a digit and is not a key word that would need
 * quoting; otherwise in double quotes with `"` doubled. `serverVersion` picks the key-word list
 * of that release (0 or absent: the newest known).
 */
export function quoteIdent(name: string, serverVersion = 0): string {
  if (/^[a-z_][a-z0-9_]*$/.test(name) && !isQuotedKeyword(name, serverVersion)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.name`, each part quoted: the identity format of the model. */
export function qualifiedName(schema: string, name: string, serverVersion = 0): string {
  return `${quoteIdent(schema, serverVersion)}.${quoteIdent(name, serverVersion)}`;
}

/**
 * Splits a quoted identity (`public."Order"`, `"a.b".c`) into its unquoted parts. Text after a
 * `(` (a function's argument list) is not split.
 */
export function splitIdentity(identity: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < identity.length) {
    if (identity[i] === '"') {
      let part = '';
      i++;
      while (i < identity.length) {
        if (identity[i] === '"') {
          if (identity[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += identity[i];
        i++;
      }
      parts.push(part);
    } else {
      let end = identity.indexOf('.', i);
      if (end < 0) end = identity.length;
      parts.push(identity.slice(i, end));
      i = end;
    }
    if (identity[i] === '.') i++;
  }
  return parts;
}
