import { qualifiedName, quoteIdent } from '../sql/identifiers.js';
import { quoteLiteral } from '../sql/quote.js';
import { aggregateFunctionSignature, aggregateSignature, aggregateStatement } from './aggregates.js';
import { type GrantTarget, granteeSql, grantStatements, groupGrants } from './ddl-grants.js';
import { collationSql, comment, dollarQuote, render, statement } from './ddl-render.js';
import type {
  Bucket,
  Collation,
  CronJob,
  DefaultPrivilege,
  EventTrigger,
  Extension,
  Publication,
  Routine,
  Schema,
  Sequence,
  TypeDefinition,
} from './model.js';

// The normalized DDL (ddl.ts) of the kinds other than tables, views and foreign data.

export function schemaDdl(schema: Schema, v: number): string {
  const name = quoteIdent(schema.name, v);
  return render([
    [`CREATE SCHEMA ${name};`],
    [`ALTER SCHEMA ${name} OWNER TO ${quoteIdent(schema.owner, v)};`],
    grantStatements(schema.grants, 'schema', `SCHEMA ${name}`, v),
    comment(`SCHEMA ${name}`, schema.comment),
  ]);
}

export function extensionDdl(extension: Extension, v: number): string {
  return render([
    [
      `CREATE EXTENSION ${quoteIdent(extension.name, v)} WITH SCHEMA ${quoteIdent(extension.schema, v)} VERSION ${quoteLiteral(extension.version)};`,
    ],
  ]);
}

export function typeDdl(type: TypeDefinition, v: number): string {
  const name = qualifiedName(type.schema, type.name, v);
  switch (type.kind) {
    case 'enum': {
      const labels = type.labels.map(
        (label, i) => `    ${quoteLiteral(label)}${i < type.labels.length - 1 ? ',' : ''}`,
      );
      return render([
        labels.length > 0
          ? [`CREATE TYPE ${name} AS ENUM (`, ...labels, ');']
          : [`CREATE TYPE ${name} AS ENUM ();`],
        [`ALTER TYPE ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`TYPE ${name}`, type.comment),
      ]);
    }
    case 'domain': {
      const lines = [`CREATE DOMAIN ${name} AS ${type.baseType}`];
      if (type.collation) lines.push(`    COLLATE ${collationSql(type.collation, v)}`);
      if (type.default !== null) lines.push(`    DEFAULT ${type.default}`);
      if (type.notNull) lines.push('    NOT NULL');
      const checks = [...type.checks].sort((a, b) => (a.name < b.name ? -1 : 1));
      // CREATE DOMAIN does not take NOT VALID: such checks are added after.
      const notValid = (check: { definition: string }) => /\bNOT VALID$/i.test(check.definition);
      for (const check of checks.filter((c) => !notValid(c))) {
        lines.push(`    CONSTRAINT ${quoteIdent(check.name, v)} ${check.definition}`);
      }
      lines[lines.length - 1] += ';';
      for (const check of checks.filter(notValid)) {
        lines.push(`ALTER DOMAIN ${name} ADD CONSTRAINT ${quoteIdent(check.name, v)} ${check.definition};`);
      }
      return render([
        lines,
        [`ALTER DOMAIN ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`DOMAIN ${name}`, type.comment),
      ]);
    }
    case 'composite': {
      const attributes = type.attributes.map(
        (a, i) =>
          `    ${quoteIdent(a.name, v)} ${a.type}${a.collation ? ` COLLATE ${collationSql(a.collation, v)}` : ''}${
            i < type.attributes.length - 1 ? ',' : ''
          }`,
      );
      return render([
        attributes.length > 0
          ? [`CREATE TYPE ${name} AS (`, ...attributes, ');']
          : [`CREATE TYPE ${name} AS ();`],
        [`ALTER TYPE ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`TYPE ${name}`, type.comment),
      ]);
    }
    case 'range': {
      const options = [`SUBTYPE = ${type.subtype}`];
      if (type.subtypeOpclass) options.push(`SUBTYPE_OPCLASS = ${type.subtypeOpclass}`);
      if (type.collation) options.push(`COLLATION = ${collationSql(type.collation, v)}`);
      if (type.canonical) options.push(`CANONICAL = ${type.canonical}`);
      if (type.subtypeDiff) options.push(`SUBTYPE_DIFF = ${type.subtypeDiff}`);
      if (type.multirange) options.push(`MULTIRANGE_TYPE_NAME = ${type.multirange}`);
      return render([
        [
          `CREATE TYPE ${name} AS RANGE (`,
          ...options.map((option, i) => `    ${option}${i < options.length - 1 ? ',' : ''}`),
          ');',
        ],
        [`ALTER TYPE ${name} OWNER TO ${quoteIdent(type.owner, v)};`],
        comment(`TYPE ${name}`, type.comment),
      ]);
    }
  }
}

/** CREATE COLLATION with every option spelled out (deterministic too), so one differing option is one line. */
export function collationDdl(collation: Collation, v: number): string {
  const name = qualifiedName(collation.schema, collation.name, v);
  const options = [`provider = ${collation.provider}`];
  if (collation.locale !== null) options.push(`locale = ${quoteLiteral(collation.locale)}`);
  if (collation.lcCollate !== null) options.push(`lc_collate = ${quoteLiteral(collation.lcCollate)}`);
  if (collation.lcCtype !== null) options.push(`lc_ctype = ${quoteLiteral(collation.lcCtype)}`);
  options.push(`deterministic = ${collation.deterministic}`);
  if (collation.rules !== undefined) options.push(`rules = ${quoteLiteral(collation.rules)}`);
  return render([
    [
      `CREATE COLLATION ${name} (`,
      ...options.map((option, i) => `    ${option}${i < options.length - 1 ? ',' : ''}`),
      ');',
    ],
    [`ALTER COLLATION ${name} OWNER TO ${quoteIdent(collation.owner, v)};`],
    comment(`COLLATION ${name}`, collation.comment),
  ]);
}

export function sequenceDdl(sequence: Sequence, v: number): string {
  const name = qualifiedName(sequence.schema, sequence.name, v);
  return render([
    [
      `CREATE SEQUENCE ${name}`,
      `    AS ${sequence.dataType}`,
      `    START WITH ${sequence.start}`,
      `    INCREMENT BY ${sequence.increment}`,
      `    MINVALUE ${sequence.min}`,
      `    MAXVALUE ${sequence.max}`,
      `    CACHE ${sequence.cache}`,
      `    ${sequence.cycle ? 'CYCLE' : 'NO CYCLE'};`,
    ],
    [
      ...(sequence.ownedBy ? [`ALTER SEQUENCE ${name} OWNED BY ${sequence.ownedBy};`] : []),
      `ALTER SEQUENCE ${name} OWNER TO ${quoteIdent(sequence.owner, v)};`,
    ],
    grantStatements(sequence.grants, 'sequence', `SEQUENCE ${name}`, v),
    comment(`SEQUENCE ${name}`, sequence.comment),
  ]);
}

export function eventTriggerDdl(trigger: EventTrigger, v: number): string {
  const name = quoteIdent(trigger.name, v);
  const create = [`CREATE EVENT TRIGGER ${name} ON ${quoteIdent(trigger.event, v)}`];
  if (trigger.tags.length > 0) create.push(`    WHEN TAG IN (${trigger.tags.map(quoteLiteral).join(', ')})`);
  create.push(`    EXECUTE FUNCTION ${trigger.function};`);
  const enabled =
    trigger.enabled === 'disabled'
      ? [`ALTER EVENT TRIGGER ${name} DISABLE;`]
      : trigger.enabled === 'replica'
        ? [`ALTER EVENT TRIGGER ${name} ENABLE REPLICA;`]
        : trigger.enabled === 'always'
          ? [`ALTER EVENT TRIGGER ${name} ENABLE ALWAYS;`]
          : [];
  return render([
    create,
    enabled,
    [`ALTER EVENT TRIGGER ${name} OWNER TO ${quoteIdent(trigger.owner, v)};`],
    comment(`EVENT TRIGGER ${name}`, trigger.comment),
  ]);
}

function configSql(entry: string, v: number): string {
  const at = entry.indexOf('=');
  if (at < 0) return `SET ${entry}`;
  const key = entry.slice(0, at);
  const value = entry.slice(at + 1);
  return `SET ${quoteIdent(key, v)} TO ${value === '""' ? "''" : quoteLiteral(value)}`;
}

export function routineDdl(routine: Routine, v: number): string {
  const name = qualifiedName(routine.schema, routine.name, v);
  const aggregate = routine.kind === 'aggregate';
  const signature = aggregate ? aggregateSignature(name, routine) : `${name}(${routine.identityArguments})`;
  const keyword = routine.kind === 'procedure' ? 'PROCEDURE' : aggregate ? 'AGGREGATE' : 'FUNCTION';
  let create: string[];
  if (routine.definition !== null) {
    create = [statement(routine.definition)];
  } else if (aggregate) {
    create = [
      routine.aggregate
        ? aggregateStatement(signature, routine, routine.aggregate)
        : `-- CREATE AGGREGATE ${signature} (its definition is not part of the model)`,
    ];
  } else {
    const lines = [
      `CREATE OR REPLACE ${keyword} ${qualifiedName(routine.schema, routine.name, v)}(${routine.arguments})`,
    ];
    if (routine.returns !== null) lines.push(` RETURNS ${routine.returns}`);
    lines.push(` LANGUAGE ${routine.language}`);
    const traits: string[] = [];
    if (routine.kind !== 'procedure') {
      if (routine.kind === 'window') traits.push('WINDOW');
      if (routine.volatility !== 'volatile') traits.push(routine.volatility.toUpperCase());
      if (routine.strict) traits.push('STRICT');
    }
    if (routine.securityDefiner) traits.push('SECURITY DEFINER');
    if (routine.kind !== 'procedure') {
      if (routine.leakproof) traits.push('LEAKPROOF');
      if (routine.parallel !== 'unsafe') traits.push(`PARALLEL ${routine.parallel.toUpperCase()}`);
    }
    if (traits.length > 0) lines.push(` ${traits.join(' ')}`);
    for (const entry of routine.config) lines.push(` ${configSql(entry, v)}`);
    lines.push(`AS ${dollarQuote(routine.body)};`);
    create = [lines.join('\n')];
  }
  const target: GrantTarget = routine.kind === 'procedure' ? 'procedure' : 'function';
  // GRANT … ON FUNCTION takes an aggregate's argument types as one list (no ORDER BY, no `*`).
  const on = `${routine.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${aggregate ? aggregateFunctionSignature(name, routine) : signature}`;
  // PUBLIC may execute a new function: say so when it has been taken away.
  const publicExecute = routine.grants.some(
    (g) => g.grantee.toUpperCase() === 'PUBLIC' && g.privilege.toUpperCase() === 'EXECUTE',
  );
  return render([
    create,
    [`ALTER ${keyword} ${signature} OWNER TO ${quoteIdent(routine.owner, v)};`],
    [
      ...(publicExecute ? [] : [`REVOKE ALL ON ${on} FROM PUBLIC;`]),
      ...grantStatements(routine.grants, target, on, v),
    ],
    comment(`${keyword} ${signature}`, routine.comment),
  ]);
}

const DEFAULT_PRIVILEGE_TARGET: Record<DefaultPrivilege['objectType'], GrantTarget> = {
  tables: 'table',
  sequences: 'sequence',
  functions: 'function',
  types: 'type',
  schemas: 'schema',
};

export function defaultPrivilegeDdl(entry: DefaultPrivilege, v: number): string {
  const head = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(entry.role, v)}${
    entry.schema === null ? '' : ` IN SCHEMA ${quoteIdent(entry.schema, v)}`
  }`;
  const objects = entry.objectType.toUpperCase();
  const groups = groupGrants(entry.grants, DEFAULT_PRIVILEGE_TARGET[entry.objectType], v);
  if (groups.length === 0) return render([[`-- ${head}: no privileges on new ${entry.objectType}`]]);
  return render([
    groups.map(
      (g) =>
        `${head} GRANT ${g.privileges} ON ${objects} TO ${granteeSql(g.grantee, v)}${g.grantable ? ' WITH GRANT OPTION' : ''};`,
    ),
  ]);
}

export function publicationDdl(publication: Publication, v: number): string {
  const name = quoteIdent(publication.name, v);
  const ops = publication.operations;
  const publish = (['insert', 'update', 'delete', 'truncate'] as const).filter((op) => ops[op]).join(', ');
  const lines = [`CREATE PUBLICATION ${name}`];
  if (publication.allTables) lines.push('    FOR ALL TABLES');
  else if (publication.tables.length > 0) {
    lines.push('    FOR TABLE');
    publication.tables.forEach((table, i) => {
      const columns = publication.columnLists?.[table];
      const filter = publication.rowFilters?.[table];
      const list = columns ? ` (${columns.map((c) => quoteIdent(c, v)).join(', ')})` : '';
      const where = filter !== undefined ? ` WHERE ${parenthesized(filter)}` : '';
      lines.push(`        ${table}${list}${where}${i < publication.tables.length - 1 ? ',' : ''}`);
    });
  }
  lines.push(`    WITH (publish = ${quoteLiteral(publish)});`);
  return render([lines]);
}

/** An expression in parentheses, as WHERE of a publication needs it (once: pg_get_expr often has them). */
function parenthesized(expression: string): string {
  const text = expression.trim();
  if (text.startsWith('(') && text.endsWith(')')) {
    let depth = 0;
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === "'") quoted = !quoted;
      if (quoted) continue;
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (depth === 0 && i < text.length - 1) return `(${text})`;
    }
    return text;
  }
  return `(${text})`;
}

export function cronJobDdl(job: CronJob): string {
  const lines = [
    `-- database ${job.database}, user ${job.username}`,
    `SELECT cron.schedule(${quoteLiteral(job.name)}, ${quoteLiteral(job.schedule)}, ${quoteLiteral(job.command)});`,
  ];
  if (!job.active) {
    lines.push(
      `SELECT cron.alter_job((SELECT jobid FROM cron.job WHERE jobname = ${quoteLiteral(job.name)}), active := false);`,
    );
  }
  return render([lines]);
}

export function bucketDdl(bucket: Bucket): string {
  const mime =
    bucket.allowedMimeTypes === null
      ? 'NULL'
      : `ARRAY[${bucket.allowedMimeTypes.map(quoteLiteral).join(', ')}]::text[]`;
  return render([
    [
      'INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types) VALUES (',
      `    ${quoteLiteral(bucket.id)},`,
      `    ${quoteLiteral(bucket.name)},`,
      `    ${bucket.public},`,
      `    ${bucket.fileSizeLimit === null ? 'NULL' : String(bucket.fileSizeLimit)},`,
      `    ${mime}`,
      ');',
    ],
  ]);
}
