import { qualifiedName, quoteIdent } from '../sql/identifiers.js';
import { quoteLiteral } from '../sql/quote.js';
import { columnGrantStatements, granteeSql, grantStatements } from './ddl-grants.js';
import { byName, collationSql, comment, render, statement } from './ddl-render.js';
import type { Column, Constraint, Index, Policy, Rule, Table, Trigger, View } from './model.js';

// Tables and views in the normalized DDL (ddl.ts), with their columns, constraints, indexes, triggers,
// rules and policies.

function columnSql(column: Column, v: number): string {
  let sql = `${quoteIdent(column.name, v)} ${column.type}`;
  if (column.collation) sql += ` COLLATE ${collationSql(column.collation, v)}`;
  if (column.identity) sql += ` GENERATED ${column.identity.toUpperCase()} AS IDENTITY`;
  if (column.generated !== null) sql += ` GENERATED ALWAYS AS (${column.generated}) STORED`;
  if (column.default !== null && column.generated === null) sql += ` DEFAULT ${column.default}`;
  if (column.notNull) sql += ' NOT NULL';
  return sql;
}

const CONSTRAINT_ORDER: Record<Constraint['type'], number> = {
  'primary key': 0,
  unique: 1,
  exclusion: 2,
  check: 3,
  'foreign key': 4,
};

export function constraintSql(constraint: Constraint, v: number): string {
  let definition = constraint.definition;
  // pg_get_constraintdef() already says DEFERRABLE and NOT VALID; hand-written models may not.
  if (constraint.deferrable && !/\bDEFERRABLE\b/i.test(definition)) {
    definition += constraint.initiallyDeferred ? ' DEFERRABLE INITIALLY DEFERRED' : ' DEFERRABLE';
  }
  if (!constraint.validated && !/\bNOT VALID\b/i.test(definition)) definition += ' NOT VALID';
  return `CONSTRAINT ${quoteIdent(constraint.name, v)} ${definition}`;
}

function indexStatements(
  indexes: Index[],
  v: number,
  schema: string,
): { create: string[]; comments: string[] } {
  const create: string[] = [];
  const comments: string[] = [];
  for (const index of indexes) {
    create.push(index.valid ? statement(index.definition) : `${statement(index.definition)} -- INVALID`);
    comments.push(...comment(`INDEX ${qualifiedName(schema, index.name, v)}`, index.comment));
  }
  return { create, comments };
}

/** CREATE TRIGGER (pg_get_triggerdef) and, when not enabled as by default, ALTER TABLE (`alter`) … DISABLE/ENABLE … TRIGGER. */
export function triggerStatements(table: string, triggers: Trigger[], v: number, alter = 'TABLE'): string[] {
  const lines: string[] = [];
  for (const trigger of triggers) {
    lines.push(statement(trigger.definition));
    const name = quoteIdent(trigger.name, v);
    const on = `ALTER ${alter} ${table}`;
    if (trigger.enabled === 'disabled') lines.push(`${on} DISABLE TRIGGER ${name};`);
    if (trigger.enabled === 'replica') lines.push(`${on} ENABLE REPLICA TRIGGER ${name};`);
    if (trigger.enabled === 'always') lines.push(`${on} ENABLE ALWAYS TRIGGER ${name};`);
  }
  return lines;
}

/** CREATE RULE (pg_get_ruledef) and, when not enabled as by default, ALTER TABLE … DISABLE/ENABLE … RULE. */
function ruleStatements(table: string, rules: Rule[], v: number): string[] {
  const lines: string[] = [];
  for (const rule of rules) {
    lines.push(statement(rule.definition));
    const name = quoteIdent(rule.name, v);
    if (rule.enabled === 'disabled') lines.push(`ALTER TABLE ${table} DISABLE RULE ${name};`);
    if (rule.enabled === 'replica') lines.push(`ALTER TABLE ${table} ENABLE REPLICA RULE ${name};`);
    if (rule.enabled === 'always') lines.push(`ALTER TABLE ${table} ENABLE ALWAYS RULE ${name};`);
  }
  return lines;
}

function policyStatement(table: string, policy: Policy, v: number): string {
  const lines = [
    `CREATE POLICY ${quoteIdent(policy.name, v)} ON ${table}`,
    `    AS ${policy.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'}`,
    `    FOR ${policy.command}`,
    `    TO ${(policy.roles.length > 0 ? policy.roles : ['PUBLIC']).map((r) => granteeSql(r, v)).join(', ')}`,
  ];
  if (policy.using !== null) lines.push(`    USING (${policy.using})`);
  if (policy.withCheck !== null) lines.push(`    WITH CHECK (${policy.withCheck})`);
  lines[lines.length - 1] += ';';
  return lines.join('\n');
}

export function tableDdl(table: Table, v: number): string {
  const name = qualifiedName(table.schema, table.name, v);
  const rls = [
    ...(table.rlsEnabled ? [`ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY;`] : []),
    ...(table.rlsForced ? [`ALTER TABLE ${name} FORCE ROW LEVEL SECURITY;`] : []),
  ];
  const policies = byName(table.policies).map((p) => policyStatement(name, p, v));
  const grants = [
    ...grantStatements(table.grants, 'table', `TABLE ${name}`, v),
    ...columnGrantStatements(name, table.columns, v),
  ];
  if (table.managed) {
    return render([
      [
        `-- ${name} is managed by Supabase: only its row level security, policies, grants and the app's triggers are shown.`,
      ],
      rls,
      policies,
      grants,
      triggerStatements(name, byName(table.triggers), v),
    ]);
  }
  const rules = byName(table.rules ?? {});

  const constraints = Object.values(table.constraints).sort((a, b) =>
    CONSTRAINT_ORDER[a.type] !== CONSTRAINT_ORDER[b.type]
      ? CONSTRAINT_ORDER[a.type] - CONSTRAINT_ORDER[b.type]
      : a.name < b.name
        ? -1
        : 1,
  );
  // A column only inherited comes with INHERITS: it is not declared again.
  const own = table.columns.filter((c) => c.inherited === undefined || c.inherited.local);
  const body = [
    ...own.map((c) => columnSql(c, v)),
    ...constraints.filter((c) => c.validated).map((c) => constraintSql(c, v)),
  ];
  const create =
    body.length === 0
      ? [`CREATE TABLE ${name} ()`]
      : [
          `CREATE TABLE ${name} (`,
          ...body.map((line, i) => `    ${line}${i < body.length - 1 ? ',' : ''}`),
          ')',
        ];
  if (table.inherits && table.inherits.length > 0) create.push(`INHERITS (${table.inherits.join(', ')})`);
  if (table.partitionKey) {
    create.push(
      /^PARTITION BY /i.test(table.partitionKey) ? table.partitionKey : `PARTITION BY ${table.partitionKey}`,
    );
  }
  create[create.length - 1] += ';';
  // CREATE TABLE ignores NOT VALID (a new table has no rows): such constraints are added after.
  for (const c of constraints.filter((c) => !c.validated)) {
    create.push(`ALTER TABLE ${name} ADD ${constraintSql(c, v)};`);
  }
  if (table.partitionOf) {
    create.push(
      `ALTER TABLE ONLY ${table.partitionOf} ATTACH PARTITION ${name} ${table.partitionBound ?? 'DEFAULT'};`,
    );
  }

  const inherited = table.columns
    .filter((c) => c.inherited !== undefined)
    .map(
      (c) =>
        `-- ${quoteIdent(c.name, v)} ${c.type}: inherited from ${c.inherited?.from.join(', ')}${c.inherited?.local ? ' (also declared here)' : ''}`,
    );
  const physical = [
    ...(table.persistence === 'unlogged' ? [`ALTER TABLE ${name} SET UNLOGGED;`] : []),
    ...storageParameterStatements(`TABLE ${name}`, table.storageParameters),
    ...table.columns.flatMap((c) => columnStorageStatements(name, c, v)),
  ];
  const replica =
    table.replicaIdentity === 'full' || table.replicaIdentity === 'nothing'
      ? [`ALTER TABLE ${name} REPLICA IDENTITY ${table.replicaIdentity.toUpperCase()};`]
      : table.replicaIdentity === 'index'
        ? [`-- ALTER TABLE ${name} REPLICA IDENTITY USING INDEX …;`]
        : [];
  const indexes = indexStatements(
    byName(table.indexes).filter((index) => index.constraint === null),
    v,
    table.schema,
  );
  const comments = [
    ...comment(`TABLE ${name}`, table.comment),
    ...table.columns.flatMap((c) => comment(`COLUMN ${name}.${quoteIdent(c.name, v)}`, c.comment)),
    ...byName(table.constraints).flatMap((c) =>
      comment(`CONSTRAINT ${quoteIdent(c.name, v)} ON ${name}`, c.comment),
    ),
    ...indexes.comments,
    ...byName(table.triggers).flatMap((t) =>
      comment(`TRIGGER ${quoteIdent(t.name, v)} ON ${name}`, t.comment),
    ),
    ...rules.flatMap((r) => comment(`RULE ${quoteIdent(r.name, v)} ON ${name}`, r.comment)),
    ...byName(table.policies).flatMap((p) =>
      comment(`POLICY ${quoteIdent(p.name, v)} ON ${name}`, p.comment),
    ),
  ];
  return render([
    create,
    inherited,
    physical,
    [...rls, ...replica],
    indexes.create,
    triggerStatements(name, byName(table.triggers), v),
    ruleStatements(name, rules, v),
    policies,
    [`ALTER TABLE ${name} OWNER TO ${quoteIdent(table.owner, v)};`],
    grants,
    comments,
  ]);
}

/** `ALTER … SET (name = value);`, one per storage parameter (`fillfactor=70`, `toast.autovacuum_enabled=false`). */
function storageParameterStatements(on: string, parameters: string[] | undefined): string[] {
  return (parameters ?? []).map((parameter) => {
    const at = parameter.indexOf('=');
    const key = at < 0 ? parameter : parameter.slice(0, at);
    const value = at < 0 ? 'true' : parameter.slice(at + 1);
    return `ALTER ${on} SET (${key} = ${/^[A-Za-z0-9_.+-]+$/.test(value) ? value : quoteLiteral(value)});`;
  });
}

/** SET STATISTICS and SET STORAGE of a column that has them. */
function columnStorageStatements(table: string, column: Column, v: number): string[] {
  const alter = `ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(column.name, v)}`;
  return [
    ...(column.statistics !== undefined ? [`${alter} SET STATISTICS ${column.statistics};`] : []),
    ...(column.storage !== undefined ? [`${alter} SET STORAGE ${column.storage.toUpperCase()};`] : []),
  ];
}

export function viewDdl(view: View, v: number): string {
  const name = qualifiedName(view.schema, view.name, v);
  const query = view.definition.trimEnd().replace(/;+$/, '').trimEnd();
  const create: string[] = [];
  if (view.kind === 'materialized') {
    create.push(`CREATE MATERIALIZED VIEW ${name} AS`, query);
    create.push(view.populated ? 'WITH DATA;' : 'WITH NO DATA;');
  } else {
    const options = [`security_invoker=${view.securityInvoker}`, `security_barrier=${view.securityBarrier}`];
    if (view.checkOption) options.push(`check_option=${view.checkOption}`);
    create.push(`CREATE VIEW ${name} WITH (${options.join(', ')}) AS`, `${query};`);
  }
  const indexes = indexStatements(byName(view.indexes), v, view.schema);
  const keyword = view.kind === 'materialized' ? 'MATERIALIZED VIEW' : 'VIEW';
  const triggers = byName(view.triggers ?? {});
  const rules = byName(view.rules ?? {});
  return render([
    create,
    [
      ...view.columns.flatMap((c) =>
        c.default === undefined
          ? []
          : [`ALTER VIEW ${name} ALTER COLUMN ${quoteIdent(c.name, v)} SET DEFAULT ${c.default};`],
      ),
      ...storageParameterStatements(`${keyword} ${name}`, view.storageParameters),
    ],
    indexes.create,
    triggerStatements(name, triggers, v),
    ruleStatements(name, rules, v),
    [`ALTER ${keyword} ${name} OWNER TO ${quoteIdent(view.owner, v)};`],
    grantStatements(view.grants, 'table', `TABLE ${name}`, v),
    [
      ...comment(`${keyword} ${name}`, view.comment),
      ...view.columns.flatMap((c) => comment(`COLUMN ${name}.${quoteIdent(c.name, v)}`, c.comment)),
      ...indexes.comments,
      ...triggers.flatMap((t) => comment(`TRIGGER ${quoteIdent(t.name, v)} ON ${name}`, t.comment)),
      ...rules.flatMap((r) => comment(`RULE ${quoteIdent(r.name, v)} ON ${name}`, r.comment)),
    ],
  ]);
}
