import { qualifiedName, quoteIdent } from '../../sql/identifiers.js';
import { quoteLiteral } from '../../sql/quote.js';
import { commentOf, compareText, extensionMember, type Nullable, sortedRecord } from '../introspect-sql.js';
import type { CatalogKind, CatalogScope } from './catalog-kind.js';

/*
 * Text search dictionaries and configurations of the user schemas (not an extension's, such
 * as unaccent's dictionary), keyed `schema.name`. Their parsers and templates stay not compared
 * (not-compared.ts): creating them takes a superuser and C functions.
 *
 * Referenced templates, parsers and dictionaries are written as regdictionary writes a name
 * under introspect()'s `search_path = pg_catalog`: bare in pg_catalog (`simple`, `"default"`),
 * schema-qualified elsewhere. Bare names in DDL resolve the same way, pg_catalog being searched
 * first.
 */

export interface TextSearchDictionary {
  schema: string;
  name: string;
  template: string;
  /** The template's options as PostgreSQL stores them (`stopwords = 'english'`), sorted. */
  options: string[];
  owner: string;
  comment: string | null;
}

export interface TextSearchConfiguration {
  schema: string;
  name: string;
  parser: string;
  /** Token type alias (sorted) → its dictionaries, in the order they are consulted. */
  mappings: Record<string, string[]>;
  owner: string;
  comment: string | null;
}

interface DictionaryRow {
  id: string;
  schema: string;
  name: string;
  template: string;
  options: Nullable<string>;
  owner: string;
  comment: Nullable<string>;
}

interface ConfigurationRow {
  id: string;
  schema: string;
  name: string;
  parser: string;
  mappings: Record<string, string[]>;
  owner: string;
  comment: Nullable<string>;
}

const IDENTITY: ReadonlySet<string> = new Set(['schema', 'name']);

/** A referenced object's name, as its reg* type would write it with `search_path = pg_catalog`. */
function referenced(namespace: string, name: string): string {
  return `CASE WHEN ${namespace}.nspname = 'pg_catalog' THEN quote_ident(${name})
    ELSE format('%I.%I', ${namespace}.nspname, ${name}) END`;
}

function dictionariesQuery(scope: CatalogScope): string {
  return `SELECT format('%I.%I', n.nspname, d.dictname) AS id, n.nspname::text AS schema, d.dictname::text AS name,
  ${referenced('tn', 't.tmplname')} AS template, d.dictinitoption AS options,
  pg_get_userbyid(d.dictowner)::text AS owner, ${commentOf('d.oid', 'pg_ts_dict')} AS comment
FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
  JOIN pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
WHERE d.dictnamespace IN (${scope.userSchemas})
  AND NOT ${extensionMember('pg_ts_dict', 'd.oid')}`;
}

function configurationsQuery(scope: CatalogScope): string {
  return `SELECT format('%I.%I', n.nspname, c.cfgname) AS id, n.nspname::text AS schema, c.cfgname::text AS name,
  ${referenced('pn', 'p.prsname')} AS parser,
  coalesce((SELECT jsonb_object_agg(tt.alias, m.dictionaries)
    FROM (SELECT cm.maptokentype, array_agg(cm.mapdict::regdictionary::text ORDER BY cm.mapseqno) AS dictionaries
          FROM pg_ts_config_map cm WHERE cm.mapcfg = c.oid GROUP BY cm.maptokentype) m
      JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype), '{}') AS mappings,
  pg_get_userbyid(c.cfgowner)::text AS owner, ${commentOf('c.oid', 'pg_ts_config')} AS comment
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
  JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
WHERE c.cfgnamespace IN (${scope.userSchemas})
  AND NOT ${extensionMember('pg_ts_config', 'c.oid')}`;
}

/**
 * dictinitoption (`a = 'x', "B" = E'y\\z'`) split into its items at the commas outside literals
 * and quoted names. PostgreSQL doubles a quote within either, so toggling at each one suffices.
 */
export function splitOptions(text: string | null): string[] {
  if (text === null || text.trim() === '') return [];
  const items: string[] = [];
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === quote) quote = null;
    else if (quote === null && (ch === "'" || ch === '"')) quote = ch;
    else if (ch === ',' && quote === null) {
      items.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  items.push(text.slice(start).trim());
  return items.sort(compareText);
}

function toDictionary(row: DictionaryRow): TextSearchDictionary {
  return {
    schema: row.schema,
    name: row.name,
    template: row.template,
    options: splitOptions(row.options),
    owner: row.owner,
    comment: row.comment,
  };
}

function toConfiguration(row: ConfigurationRow): TextSearchConfiguration {
  return {
    schema: row.schema,
    name: row.name,
    parser: row.parser,
    mappings: sortedRecord(Object.entries(row.mappings ?? {})),
    owner: row.owner,
    comment: row.comment,
  };
}

function render(blocks: string[][]): string {
  return `${blocks
    .filter((block) => block.length > 0)
    .map((block) => block.join('\n'))
    .join('\n\n')}\n`;
}

/** OWNER and COMMENT of `on` (`TEXT SEARCH DICTIONARY public.d`). */
function ownerAndComment(on: string, owner: string, comment: string | null, v: number): string[][] {
  return [
    [`ALTER ${on} OWNER TO ${quoteIdent(owner, v)};`],
    comment === null ? [] : [`COMMENT ON ${on} IS ${quoteLiteral(comment)};`],
  ];
}

/** CREATE TEXT SEARCH DICTIONARY with one option a line, sorted: one differing option is one line. */
function dictionaryDdl(dictionary: TextSearchDictionary, v: number): string {
  const on = `TEXT SEARCH DICTIONARY ${qualifiedName(dictionary.schema, dictionary.name, v)}`;
  const options = [`TEMPLATE = ${dictionary.template}`, ...dictionary.options];
  return render([
    [`CREATE ${on} (`, ...options.map((o, i) => `    ${o}${i < options.length - 1 ? ',' : ''}`), ');'],
    ...ownerAndComment(on, dictionary.owner, dictionary.comment, v),
  ]);
}

/** CREATE TEXT SEARCH CONFIGURATION, then one ADD MAPPING a token type: one changed mapping is one line. */
function configurationDdl(configuration: TextSearchConfiguration, v: number): string {
  const on = `TEXT SEARCH CONFIGURATION ${qualifiedName(configuration.schema, configuration.name, v)}`;
  const mappings = Object.entries(configuration.mappings).map(
    ([token, dictionaries]) =>
      `ALTER ${on} ADD MAPPING FOR ${quoteIdent(token, v)} WITH ${dictionaries.join(', ')};`,
  );
  return render([
    [`CREATE ${on} (PARSER = ${configuration.parser});`],
    mappings,
    ...ownerAndComment(on, configuration.owner, configuration.comment, v),
  ]);
}

export const textSearchDictionaries: CatalogKind<DictionaryRow, TextSearchDictionary> = {
  kind: 'text search dictionary',
  key: 'textSearchDictionaries',
  query: dictionariesQuery,
  assemble: (rows) =>
    sortedRecord(rows.map((row): [string, TextSearchDictionary] => [row.id, toDictionary(row)])),
  ddl: dictionaryDdl,
  identity: IDENTITY,
};

export const textSearchConfigurations: CatalogKind<ConfigurationRow, TextSearchConfiguration> = {
  kind: 'text search configuration',
  key: 'textSearchConfigurations',
  query: configurationsQuery,
  assemble: (rows) =>
    sortedRecord(rows.map((row): [string, TextSearchConfiguration] => [row.id, toConfiguration(row)])),
  ddl: configurationDdl,
  identity: IDENTITY,
};
