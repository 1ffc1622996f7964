import { qualifiedName, quoteIdent } from '../sql/identifiers.js';
import { quoteLiteral } from '../sql/quote.js';
import { columnGrantStatements, granteeSql, grantStatements } from './ddl-grants.js';
import { byName, collationSql, comment, render } from './ddl-render.js';
import { constraintSql, triggerStatements } from './ddl-tables.js';
import type {
  FdwOptions,
  ForeignDataWrapper,
  ForeignServer,
  ForeignTable,
  ForeignTableColumn,
  UserMapping,
} from './model-foreign.js';
import { REDACTED, SECRET_OPTION } from './model-foreign.js';

// Foreign data in the normalized DDL (ddl.ts): wrappers, servers, user mappings, foreign tables.

/**
 * `OPTIONS (name 'value', …)`, names sorted. Secret hygiene: the value of an option whose name
 * contains key, secret, password or token (SECRET_OPTION) is shown as REDACTED, whatever the
 * model holds (introspection never reads it); `redactAll` shows every value so (user mappings).
 */
function optionsSql(options: FdwOptions | string[], v: number, redactAll = false): string | null {
  const entries: [string, string][] = Array.isArray(options)
    ? options.map((name) => [name, REDACTED])
    : Object.entries(options).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return null;
  const items = entries.map(
    ([name, value]) =>
      `${quoteIdent(name, v)} ${quoteLiteral(redactAll || SECRET_OPTION.test(name) ? REDACTED : value)}`,
  );
  return `OPTIONS (${items.join(', ')})`;
}

export function foreignDataWrapperDdl(wrapper: ForeignDataWrapper, v: number): string {
  const name = quoteIdent(wrapper.name, v);
  const lines = [`CREATE FOREIGN DATA WRAPPER ${name}`];
  if (wrapper.handler !== null) lines.push(`    HANDLER ${wrapper.handler}`);
  if (wrapper.validator !== null) lines.push(`    VALIDATOR ${wrapper.validator}`);
  const options = optionsSql(wrapper.options, v);
  if (options !== null) lines.push(`    ${options}`);
  lines[lines.length - 1] += ';';
  return render([
    lines,
    [`ALTER FOREIGN DATA WRAPPER ${name} OWNER TO ${quoteIdent(wrapper.owner, v)};`],
    grantStatements(wrapper.grants, 'foreign data wrapper', `FOREIGN DATA WRAPPER ${name}`, v),
    comment(`FOREIGN DATA WRAPPER ${name}`, wrapper.comment),
  ]);
}

export function foreignServerDdl(server: ForeignServer, v: number): string {
  const name = quoteIdent(server.name, v);
  const lines = [`CREATE SERVER ${name}`];
  if (server.type !== null) lines.push(`    TYPE ${quoteLiteral(server.type)}`);
  if (server.version !== null) lines.push(`    VERSION ${quoteLiteral(server.version)}`);
  lines.push(`    FOREIGN DATA WRAPPER ${quoteIdent(server.wrapper, v)}`);
  const options = optionsSql(server.options, v);
  if (options !== null) lines.push(`    ${options}`);
  lines[lines.length - 1] += ';';
  return render([
    lines,
    [`ALTER SERVER ${name} OWNER TO ${quoteIdent(server.owner, v)};`],
    grantStatements(server.grants, 'foreign server', `FOREIGN SERVER ${name}`, v),
    comment(`SERVER ${name}`, server.comment),
  ]);
}

/** Option names only, every value shown as REDACTED: a user mapping holds the remote credentials. */
export function userMappingDdl(mapping: UserMapping, v: number): string {
  const head = `CREATE USER MAPPING FOR ${granteeSql(mapping.user, v)} SERVER ${quoteIdent(mapping.server, v)}`;
  if (mapping.optionNames === null) {
    return render([[`${head}; -- its options are not readable by the role that read the schema`]]);
  }
  const options = optionsSql(mapping.optionNames, v, true);
  return render([[options === null ? `${head};` : `${head}\n    ${options};`]]);
}

function foreignColumnSql(column: ForeignTableColumn, v: number): string {
  let sql = `${quoteIdent(column.name, v)} ${column.type}`;
  const options = optionsSql(column.options, v);
  if (options !== null) sql += ` ${options}`;
  if (column.collation) sql += ` COLLATE ${collationSql(column.collation, v)}`;
  if (column.notNull) sql += ' NOT NULL';
  if (column.default !== null) sql += ` DEFAULT ${column.default}`;
  return sql;
}

export function foreignTableDdl(table: ForeignTable, v: number): string {
  const name = qualifiedName(table.schema, table.name, v);
  const checks = byName(table.constraints);
  const body = [
    ...table.columns.map((c) => foreignColumnSql(c, v)),
    ...checks.filter((c) => c.validated).map((c) => constraintSql(c, v)),
  ];
  const create =
    body.length === 0
      ? [`CREATE FOREIGN TABLE ${name} ()`]
      : [
          `CREATE FOREIGN TABLE ${name} (`,
          ...body.map((line, i) => `    ${line}${i < body.length - 1 ? ',' : ''}`),
          ')',
        ];
  create.push(`SERVER ${quoteIdent(table.server, v)}`);
  const options = optionsSql(table.options, v);
  if (options !== null) create.push(options);
  create[create.length - 1] += ';';
  for (const c of checks.filter((c) => !c.validated)) {
    create.push(`ALTER FOREIGN TABLE ${name} ADD ${constraintSql(c, v)};`);
  }
  const triggers = byName(table.triggers ?? {});
  return render([
    create,
    triggerStatements(name, triggers, v, 'FOREIGN TABLE'),
    [`ALTER FOREIGN TABLE ${name} OWNER TO ${quoteIdent(table.owner, v)};`],
    [
      ...grantStatements(table.grants, 'table', `TABLE ${name}`, v),
      ...columnGrantStatements(name, table.columns, v),
    ],
    [
      ...comment(`FOREIGN TABLE ${name}`, table.comment),
      ...table.columns.flatMap((c) => comment(`COLUMN ${name}.${quoteIdent(c.name, v)}`, c.comment)),
      ...checks.flatMap((c) => comment(`CONSTRAINT ${quoteIdent(c.name, v)} ON ${name}`, c.comment)),
      ...triggers.flatMap((t) => comment(`TRIGGER ${quoteIdent(t.name, v)} ON ${name}`, t.comment)),
    ],
  ]);
}
