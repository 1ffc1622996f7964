import { parseSync } from 'libpg-query';
import type { AcceptedHazard } from '../config.js';
import type { Migration } from '../migrations/model.js';
import { ensureParser } from '../migrations/statements.js';
import type { ObjectChange, SchemaDiff } from './changes.js';
import { quoteIdent } from './ddl.js';
import type { SchemaModel, Table } from './model.js';
import { type AccessLevel, describeAccess, type TableAccess } from './rls.js';

/**
 * Hazards: what a reviewer must know before the pending migrations reach production. Each
 * has a code, a category, a severity and, where one statement causes it, that statement's
 * file and line. Object-level hazards come from the schema diff (so a DROP SCHEMA … CASCADE
 * still reports each table it drops, and a recognized rename is no drop); statement-level
 * ones (TRUNCATE, DELETE without WHERE, index builds…) from the parse trees.
 */
export type HazardCategory = 'data-loss' | 'locking' | 'non-transactional' | 'security';
export type HazardSeverity = 'blocking' | 'warning';

export type HazardCode =
  | 'drop-schema'
  | 'drop-table'
  | 'drop-column'
  | 'truncate'
  | 'narrowing-type'
  | 'lossy-type-change'
  | 'delete-without-where'
  | 'update-without-where'
  | 'table-rewrite'
  | 'index-not-concurrent'
  | 'constraint-validation'
  | 'set-not-null'
  | 'non-transactional'
  | 'rls-disabled'
  | 'policy-dropped'
  | 'access-widened'
  | 'grant-to-anon'
  | 'security-definer-search-path';

export interface HazardLocation {
  path: string;
  version: string;
  line: number;
  statementIndex: number;
  statement: string;
}

export interface Hazard {
  code: HazardCode;
  category: HazardCategory;
  severity: HazardSeverity;
  message: string;
  /** The object it concerns: `public.posts`, `public.posts.title`. */
  object?: string;
  location?: HazardLocation;
  /** Set when a `-- supagate:allow` comment or the config accepts it. */
  accepted?: { reason: string; source: 'migration' | 'config' };
}

export interface HazardOptions {
  /** A table with at least this many rows (pg_class estimate) is large: blocking builds and scans matter. */
  largeTableRows: number;
  accepted: AcceptedHazard[];
}

export const DEFAULT_HAZARD_OPTIONS: HazardOptions = { largeTableRows: 100_000, accepted: [] };

const CATEGORY: Record<HazardCode, HazardCategory> = {
  'drop-schema': 'data-loss',
  'drop-table': 'data-loss',
  'drop-column': 'data-loss',
  truncate: 'data-loss',
  'narrowing-type': 'data-loss',
  'lossy-type-change': 'data-loss',
  'delete-without-where': 'data-loss',
  'update-without-where': 'data-loss',
  'table-rewrite': 'locking',
  'index-not-concurrent': 'locking',
  'constraint-validation': 'locking',
  'set-not-null': 'locking',
  'non-transactional': 'non-transactional',
  'rls-disabled': 'security',
  'policy-dropped': 'security',
  'access-widened': 'security',
  'grant-to-anon': 'security',
  'security-definer-search-path': 'security',
};

type Node = Record<string, unknown>;

/** A pending statement with its parse tree and the relations it names. */
interface AnalyzedStatement {
  migration: Migration;
  index: number;
  line: number;
  sql: string;
  nodeType: string;
  node: Node;
  relations: Set<string>;
}

export interface HazardInput {
  pending: Migration[];
  before: SchemaModel;
  after: SchemaModel;
  diff: SchemaDiff;
  access: TableAccess[];
}

export async function findHazards(
  input: HazardInput,
  options: HazardOptions = DEFAULT_HAZARD_OPTIONS,
): Promise<Hazard[]> {
  await ensureParser();
  const statements = analyze(input.pending, input.before.serverVersion);
  const hazards: Hazard[] = [];
  const add = (
    code: HazardCode,
    severity: HazardSeverity,
    message: string,
    object?: string,
    at?: AnalyzedStatement,
  ) => {
    hazards.push({
      code,
      category: CATEGORY[code],
      severity,
      message,
      ...(object ? { object } : {}),
      ...(at ? { location: locationOf(at) } : {}),
    });
  };
  const find = (predicate: (s: AnalyzedStatement) => boolean) => statements.find(predicate);
  const touching = (relation: string, ...types: string[]) =>
    find((s) => s.relations.has(relation) && (types.length === 0 || types.includes(s.nodeType)));

  // Object-level: from the diff.
  for (const change of input.diff.changes) {
    if (change.kind === 'schema' && change.action === 'removed') {
      add(
        'drop-schema',
        'blocking',
        `Schema ${change.id} is dropped with everything in it`,
        change.id,
        find((s) => dropsSchema(s, input.before.schemas[change.id]?.name ?? change.id)),
      );
    }
    if (change.kind === 'table' && change.action === 'removed') {
      const table = input.before.tables[change.id];
      add(
        'drop-table',
        'blocking',
        `Table ${change.id} is dropped${rowsNote(table)}`,
        change.id,
        touching(change.id, 'DropStmt') ?? find((s) => dropsSchema(s, table?.schema ?? '')),
      );
    }
    if (change.kind === 'table' && (change.action === 'changed' || change.action === 'renamed')) {
      tableHazards(change, input, options, add, touching);
    }
    if (change.kind === 'function' && change.action !== 'removed') {
      const routine = input.after.functions[change.id];
      if (routine?.securityDefiner && !routine.config.some((c) => c.startsWith('search_path='))) {
        add(
          'security-definer-search-path',
          'warning',
          `SECURITY DEFINER function ${change.id} has no fixed search_path: a caller can shadow the objects it uses`,
          change.id,
          find((s) => s.nodeType === 'CreateFunctionStmt' && s.sql.includes(routine.name)),
        );
      }
    }
  }

  // RLS access: any cell that grants more than before.
  for (const table of input.access) {
    for (const cell of table.cells) {
      if (!cell.before || !cell.after || !widens(cell.before, cell.after)) continue;
      add(
        'access-widened',
        cell.role === 'anon' ? 'blocking' : 'warning',
        `${cell.role} can ${cell.command} ${describeAccess(cell.after)} of ${table.table} (before: ${describeAccess(cell.before)})`,
        table.table,
        touching(
          table.table,
          'CreatePolicyStmt',
          'AlterPolicyStmt',
          'DropStmt',
          'AlterTableStmt',
          'GrantStmt',
        ),
      );
    }
  }

  // Statement-level.
  for (const s of statements) {
    if (s.nodeType === 'TruncateStmt') {
      add(
        'truncate',
        'blocking',
        `TRUNCATE deletes every row of ${[...s.relations].join(', ')}`,
        [...s.relations][0],
        s,
      );
    }
    if (s.nodeType === 'DeleteStmt' && !s.node.whereClause && isExisting(s, input.before)) {
      add(
        'delete-without-where',
        'blocking',
        `DELETE without WHERE empties ${[...s.relations][0]}`,
        [...s.relations][0],
        s,
      );
    }
    if (s.nodeType === 'UpdateStmt' && !s.node.whereClause && isExisting(s, input.before)) {
      add(
        'update-without-where',
        'warning',
        `UPDATE without WHERE rewrites every row of ${[...s.relations][0]}`,
        [...s.relations][0],
        s,
      );
    }
    if (s.nodeType === 'IndexStmt' && !s.node.concurrent) {
      const relation = [...s.relations][0] ?? '';
      const table = input.before.tables[relation];
      if (table && isLarge(table, options)) {
        add(
          'index-not-concurrent',
          'warning',
          `CREATE INDEX without CONCURRENTLY blocks writes to ${relation} (about ${table.stats.estimatedRows.toLocaleString('en-US')} rows) while it builds`,
          relation,
          s,
        );
      }
    }
    const nonTransactional = s.migration.statements[s.index]?.nonTransactional;
    if (nonTransactional) {
      add(
        'non-transactional',
        'warning',
        `${nonTransactional} runs outside a transaction: if it fails, ${s.migration.path} is left partly applied`,
        undefined,
        s,
      );
    }
    if (s.nodeType === 'GrantStmt' && s.node.is_grant && grantsToAnon(s.node)) {
      add(
        'grant-to-anon',
        'warning',
        `Privileges are granted to anon or PUBLIC: anyone with the anon key gets them`,
        undefined,
        s,
      );
    }
    if (s.nodeType === 'VacuumStmt' && hasOption(s.node.options, 'full')) {
      add(
        'table-rewrite',
        'warning',
        'VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock',
        [...s.relations][0],
        s,
      );
    }
  }

  return acceptHazards(dedupe(hazards), input.pending, options.accepted);
}

function tableHazards(
  change: ObjectChange,
  input: HazardInput,
  options: HazardOptions,
  add: (
    code: HazardCode,
    severity: HazardSeverity,
    message: string,
    object?: string,
    at?: AnalyzedStatement,
  ) => void,
  touching: (relation: string, ...types: string[]) => AnalyzedStatement | undefined,
): void {
  const before = input.before.tables[change.renamedFrom ?? change.id];
  const alter =
    touching(change.id, 'AlterTableStmt') ??
    (change.renamedFrom ? touching(change.renamedFrom, 'AlterTableStmt') : undefined);
  for (const attribute of change.attributes) {
    if (attribute.attribute === 'rlsEnabled' && attribute.before === true && attribute.after === false) {
      add(
        'rls-disabled',
        'blocking',
        `Row level security is disabled on ${change.id}: every row is readable by whoever has table privileges`,
        change.id,
        alter,
      );
    }
  }
  for (const member of change.members) {
    const object = `${change.id}.${member.name}`;
    if (member.kind === 'column' && member.action === 'removed') {
      add(
        'drop-column',
        'blocking',
        `Column ${object} is dropped with its data${rowsNote(before)}`,
        object,
        alter,
      );
    }
    if (member.kind === 'column' && (member.action === 'changed' || member.action === 'renamed')) {
      const type = member.attributes.find((a) => a.attribute === 'type');
      if (type) {
        const conversion = classifyTypeChange(String(type.before), String(type.after));
        if (conversion === 'narrowing') {
          add(
            'narrowing-type',
            'blocking',
            `Column ${object} narrows from ${type.before} to ${type.after}: values that do not fit fail or are cut`,
            object,
            alter,
          );
        } else if (conversion === 'other') {
          add(
            'lossy-type-change',
            'warning',
            `Column ${object} changes from ${type.before} to ${type.after}: check that every value converts`,
            object,
            alter,
          );
        }
        if (conversion !== 'binary-compatible' && before && before.stats.estimatedRows > 0) {
          add(
            'table-rewrite',
            'warning',
            `Changing ${object} to ${type.after} rewrites ${change.id} under an ACCESS EXCLUSIVE lock${rowsNote(before)}`,
            object,
            alter,
          );
        }
      }
      const notNull = member.attributes.find((a) => a.attribute === 'notNull');
      if (
        notNull &&
        notNull.before === false &&
        notNull.after === true &&
        before &&
        isLarge(before, options)
      ) {
        add(
          'set-not-null',
          'warning',
          `SET NOT NULL on ${object} scans ${change.id} under an ACCESS EXCLUSIVE lock${rowsNote(before)}`,
          object,
          alter,
        );
      }
    }
    if (
      member.kind === 'constraint' &&
      member.action === 'added' &&
      before &&
      before.stats.estimatedRows > 0
    ) {
      const constraint = input.after.tables[change.id]?.constraints[member.name];
      if (constraint?.validated && (constraint.type === 'foreign key' || constraint.type === 'check')) {
        add(
          'constraint-validation',
          'warning',
          `Adding ${constraint.type} ${member.name} validates every row of ${change.id} while holding a lock${rowsNote(before)}; add it NOT VALID, then VALIDATE CONSTRAINT in a later migration`,
          `${change.id}.${member.name}`,
          alter,
        );
      }
    }
    if (
      member.kind === 'policy' &&
      member.action === 'removed' &&
      !replacedUnderAnotherName(change.id, member.name, input)
    ) {
      add(
        'policy-dropped',
        'warning',
        `Policy "${member.name}" on ${change.id} is dropped`,
        `${change.id}.${member.name}`,
        touching(change.id, 'DropStmt'),
      );
    }
  }
}

/** A policy dropped while one with the same meaning appears on the table (a rename) is no loss. */
function replacedUnderAnotherName(table: string, name: string, input: HazardInput): boolean {
  const old = input.before.tables[table]?.policies[name];
  const now = input.after.tables[table]?.policies ?? {};
  if (!old) return false;
  const meaning = (p: {
    command: string;
    permissive: boolean;
    roles: string[];
    using: string | null;
    withCheck: string | null;
  }) => JSON.stringify([p.command, p.permissive, p.roles, p.using, p.withCheck]);
  return Object.values(now).some((policy) => policy.name !== name && meaning(policy) === meaning(old));
}

export type TypeConversion = 'same' | 'binary-compatible' | 'widening' | 'narrowing' | 'other';

const INTEGER_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 };

/** How a column's type change treats existing values (format_type spellings). */
export function classifyTypeChange(from: string, to: string): TypeConversion {
  if (from === to) return 'same';
  const length = (type: string) => /^(character varying|varchar|character|bit varying)\((\d+)\)$/.exec(type);
  const base = (type: string) => type.replace(/\(.*\)$/, '');
  const fromLength = length(from);
  const toLength = length(to);
  if (base(from) === 'character varying' && (to === 'text' || to === 'character varying'))
    return 'binary-compatible';
  if (from === 'text' && to === 'character varying') return 'binary-compatible';
  if (fromLength && toLength && base(from) === base(to)) {
    return Number(toLength[2]) >= Number(fromLength[2])
      ? base(from) === 'character varying'
        ? 'binary-compatible'
        : 'widening'
      : 'narrowing';
  }
  if ((from === 'text' || from === 'character varying') && toLength) return 'narrowing';
  const fromInt = INTEGER_RANK[from];
  const toInt = INTEGER_RANK[to];
  if (fromInt && toInt) return toInt > fromInt ? 'widening' : 'narrowing';
  if (fromInt && (to === 'numeric' || to === 'double precision' || to === 'real'))
    return to === 'real' && fromInt > 1 ? 'other' : 'widening';
  if (from === 'real' && to === 'double precision') return 'widening';
  if (from === 'double precision' && to === 'real') return 'narrowing';
  const numeric = (type: string) => /^numeric(?:\((\d+),(\d+)\))?$/.exec(type);
  const fromNumeric = numeric(from);
  const toNumeric = numeric(to);
  if (fromNumeric && toNumeric) {
    if (!toNumeric[1]) return 'binary-compatible';
    if (!fromNumeric[1]) return 'narrowing';
    const [fp, fs, tp, ts] = [fromNumeric[1], fromNumeric[2], toNumeric[1], toNumeric[2]].map(Number) as [
      number,
      number,
      number,
      number,
    ];
    return tp - ts >= fp - fs && ts >= fs ? (ts === fs ? 'binary-compatible' : 'widening') : 'narrowing';
  }
  if (
    (fromInt || from === 'real' || from === 'double precision' || fromNumeric) &&
    (INTEGER_RANK[to] || toNumeric)
  )
    return 'narrowing';
  if (to === 'text') return 'widening';
  if (from === 'timestamp without time zone' && to === 'timestamp with time zone') return 'other';
  return 'other';
}

function widens(before: AccessLevel, after: AccessLevel): boolean {
  const rank = (level: AccessLevel) => (level.kind === 'none' ? 0 : level.kind === 'rows' ? 1 : 2);
  if (rank(after) > rank(before)) return true;
  return (
    before.kind === 'rows' &&
    after.kind === 'rows' &&
    before.expression !== after.expression &&
    after.expression.length > 0
  );
}

function rowsNote(table: Table | undefined): string {
  const rows = table?.stats.estimatedRows ?? 0;
  return rows > 0 ? ` (about ${rows.toLocaleString('en-US')} rows in production)` : '';
}

function isLarge(table: Table, options: HazardOptions): boolean {
  return table.stats.estimatedRows >= options.largeTableRows;
}

function isExisting(statement: AnalyzedStatement, before: SchemaModel): boolean {
  return [...statement.relations].some((relation) => before.tables[relation] !== undefined);
}

/** `schema` is the plain (unquoted) name. */
function dropsSchema(statement: AnalyzedStatement, schema: string): boolean {
  if (statement.nodeType !== 'DropStmt' || statement.node.removeType !== 'OBJECT_SCHEMA') return false;
  const objects = (statement.node.objects as { String?: { sval?: string } }[] | undefined) ?? [];
  return objects.some((object) => object.String?.sval === schema);
}

function hasOption(options: unknown, name: string): boolean {
  return (
    Array.isArray(options) &&
    options.some((o) => (o as { DefElem?: { defname?: string } }).DefElem?.defname === name)
  );
}

function grantsToAnon(node: Node): boolean {
  const grantees =
    (node.grantees as { RoleSpec?: { roletype?: string; rolename?: string } }[] | undefined) ?? [];
  return grantees.some((g) => g.RoleSpec?.roletype === 'ROLESPEC_PUBLIC' || g.RoleSpec?.rolename === 'anon');
}

function analyze(pending: Migration[], serverVersion: number): AnalyzedStatement[] {
  const analyzed: AnalyzedStatement[] = [];
  for (const migration of pending) {
    for (const statement of migration.statements) {
      let node: Node = {};
      let nodeType = statement.nodeType;
      try {
        const tree = parseSync(statement.sql) as { stmts?: { stmt: Node }[] };
        const entry = Object.entries(tree.stmts?.[0]?.stmt ?? {})[0];
        if (entry) [nodeType, node] = entry as [string, Node];
      } catch {
        // Already parsed once with the whole file; a statement alone always parses.
      }
      analyzed.push({
        migration,
        index: statement.index,
        line: statement.line,
        sql: statement.sql,
        nodeType,
        node,
        relations: relationsIn(node, serverVersion),
      });
    }
  }
  return analyzed;
}

/** Every RangeVar in the tree, as model identities (unqualified names default to public). */
function relationsIn(node: unknown, serverVersion: number, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) relationsIn(item, serverVersion, found);
  } else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    const range = record.RangeVar as { schemaname?: string; relname?: string } | undefined;
    if (range?.relname)
      found.add(
        `${quoteIdent(range.schemaname ?? 'public', serverVersion)}.${quoteIdent(range.relname, serverVersion)}`,
      );
    if ('relname' in record && typeof record.relname === 'string' && 'inh' in record) {
      found.add(
        `${quoteIdent((record.schemaname as string | undefined) ?? 'public', serverVersion)}.${quoteIdent(record.relname, serverVersion)}`,
      );
    }
    for (const value of Object.values(record)) relationsIn(value, serverVersion, found);
  }
  return found;
}

function locationOf(statement: AnalyzedStatement): HazardLocation {
  return {
    path: statement.migration.path,
    version: statement.migration.version,
    line: statement.line,
    statementIndex: statement.index,
    statement: statement.sql,
  };
}

function dedupe(hazards: Hazard[]): Hazard[] {
  const seen = new Set<string>();
  return hazards.filter((hazard) => {
    const key = `${hazard.code}|${hazard.object ?? ''}|${hazard.location?.path ?? ''}:${hazard.location?.line ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `-- supagate:allow <code|category>: <reason>` in a migration accepts that file's hazards of that kind. */
const ALLOW_COMMENT = /--\s*supagate:allow\s+([a-z-]+)\s*:\s*(.+)$/gm;

export function allowCommentsIn(sql: string): { code: string; reason: string }[] {
  return [...sql.matchAll(ALLOW_COMMENT)].map((match) => ({
    code: match[1] as string,
    reason: (match[2] as string).trim(),
  }));
}

function acceptHazards(hazards: Hazard[], pending: Migration[], accepted: AcceptedHazard[]): Hazard[] {
  const allowed = new Map(pending.map((migration) => [migration.path, allowCommentsIn(migration.sql)]));
  return hazards.map((hazard) => {
    const matches = (code: string) => code === hazard.code || code === hazard.category;
    const inFile = hazard.location
      ? allowed.get(hazard.location.path)?.find((allow) => matches(allow.code))
      : undefined;
    if (inFile) return { ...hazard, accepted: { reason: inFile.reason, source: 'migration' as const } };
    const inConfig = accepted.find(
      (a) =>
        matches(a.code) &&
        (!a.version || a.version === hazard.location?.version) &&
        (!a.object || a.object === hazard.object),
    );
    return inConfig
      ? { ...hazard, accepted: { reason: inConfig.reason, source: 'config' as const } }
      : hazard;
  });
}
