/* The archive's table of contents (`pg_restore --list`). */

/** Entry types pg_dump writes (pg_dump.c, ArchiveEntry `description`), longest first. */
const TOC_TYPES = [
  'ACCESS METHOD',
  'ACL',
  'AGGREGATE',
  'BLOB',
  'BLOB METADATA',
  'BLOBS',
  'CAST',
  'CHECK CONSTRAINT',
  'COLLATION',
  'COMMENT',
  'CONSTRAINT',
  'CONVERSION',
  'DATABASE',
  'DATABASE PROPERTIES',
  'DEFAULT',
  'DEFAULT ACL',
  'DOMAIN',
  'ENCODING',
  'EVENT TRIGGER',
  'EXTENSION',
  'FK CONSTRAINT',
  'FOREIGN DATA WRAPPER',
  'FOREIGN SERVER',
  'FOREIGN TABLE',
  'FUNCTION',
  'INDEX',
  'INDEX ATTACH',
  'LARGE OBJECT',
  'MATERIALIZED VIEW',
  'MATERIALIZED VIEW DATA',
  'OPERATOR',
  'OPERATOR CLASS',
  'OPERATOR FAMILY',
  'POLICY',
  'PROCEDURAL LANGUAGE',
  'PROCEDURE',
  'PUBLICATION',
  'PUBLICATION TABLE',
  'PUBLICATION TABLES IN SCHEMA',
  'ROW SECURITY',
  'RULE',
  'SCHEMA',
  'SEARCHPATH',
  'SECURITY LABEL',
  'SEQUENCE',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'SERVER',
  'SHELL TYPE',
  'STATISTICS',
  'STATISTICS DATA',
  'STDSTRINGS',
  'SUBSCRIPTION',
  'SUBSCRIPTION TABLE',
  'TABLE',
  'TABLE ATTACH',
  'TABLE DATA',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'TEXT SEARCH PARSER',
  'TEXT SEARCH TEMPLATE',
  'TRANSFORM',
  'TRIGGER',
  'TYPE',
  'USER MAPPING',
  'VIEW',
].sort((a, b) => b.length - a.length);

/** One line of `pg_restore --list`: `3409; 0 16458 TABLE DATA storage buckets postgres`. */
export interface TocEntry {
  /** The line as pg_restore printed it (what --use-list reads back). */
  line: string;
  /** TABLE, TABLE DATA, POLICY, … (`null` for a type this version does not know). */
  type: string | null;
  /** The entry's schema; null for `-` (schemas themselves, their comments and privileges). */
  schema: string | null;
  /** What follows the schema: the tag (e.g. `objects My policy`) and the owner. */
  rest: string;
}

/**
 * Parses `pg_restore --list`. Names are printed unquoted and space-separated, so a schema is
 * recognized by matching the names the backup holds, longest first.
 */
export function parseToc(list: string, schemas: string[]): TocEntry[] {
  const known = [...new Set(schemas)].sort((a, b) => b.length - a.length);
  const entries: TocEntry[] = [];
  for (const line of list.split('\n')) {
    const match = /^\s*\d+;\s+\d+\s+\d+\s+(.*)$/.exec(line);
    if (!match) continue;
    const body = match[1] as string;
    const type = TOC_TYPES.find((t) => body.startsWith(`${t} `)) ?? null;
    if (!type) {
      entries.push({ line, type: null, schema: null, rest: body });
      continue;
    }
    const afterType = body.slice(type.length + 1);
    if (afterType.startsWith('- ')) {
      entries.push({ line, type, schema: null, rest: afterType.slice(2) });
      continue;
    }
    const schema = known.find((s) => afterType.startsWith(`${s} `)) ?? afterType.split(' ')[0] ?? '';
    entries.push({ line, type, schema, rest: afterType.slice(schema.length + 1) });
  }
  return entries;
}

/** `SCHEMA public owner`, `COMMENT - SCHEMA public owner`: the schema such an entry is about. */
export function schemaOfSchemaEntry(entry: TocEntry, schemas: string[]): string | undefined {
  const text = entry.type === 'SCHEMA' ? entry.rest : entry.rest.replace(/^SCHEMA /, '');
  if (entry.type !== 'SCHEMA' && !entry.rest.startsWith('SCHEMA ')) return undefined;
  return [...schemas].sort((a, b) => b.length - a.length).find((s) => text.startsWith(`${s} `));
}
