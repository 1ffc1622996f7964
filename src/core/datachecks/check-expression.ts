import { parseSync } from '../migrations/parser.js';
import { quoteIdentifier, quoteLiteral } from '../sql/quote.js';

/**
 * A CHECK constraint's expression rebuilt as SQL of supagate's own, so that its violations can
 * be counted on production before approval (promise 1): the expression is the pull request's,
 * so it is never sent as written. Its parse tree is walked against a whitelist (columns,
 * constants, built-in operators, casts and immutable functions) and new SQL is written from the
 * accepted nodes, every name and literal quoted by us, every operator and function pinned to
 * pg_catalog. Anything else refuses the whole expression: no query at all.
 */
export type RebuiltExpression =
  | { sql: string; columns: string[] }
  /** What the expression uses that supagate does not evaluate, in words. */
  | { refused: string };

/** What a column of the expression reads in production's rows. */
export type ColumnSource =
  /** A column production's table has, under production's name. */
  | { column: string }
  /** A column the migrations add: every existing row holds this value (rebuilt SQL). */
  | { value: string }
  /** A column whose value in production's rows cannot be told: what it is, in words. */
  | { unknown: string };

export type ColumnResolver = (name: string) => ColumnSource | undefined;

/**
 * A type of production's that a cast may name besides the built-in ones (an enum it has, as
 * the expression's schema and name say), written as production names it; undefined: refused.
 */
export type TypeResolver = (schema: string, name: string) => string | undefined;

/** Built-in operators, written `OPERATOR(pg_catalog.op)` so that no other schema's can be picked. */
const OPERATORS = new Set([
  '=',
  '<>',
  '<',
  '>',
  '<=',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '||',
  '~~',
  '~~*',
  '!~~',
  '!~~*',
  '~',
  '~*',
  '!~',
  '!~*',
]);

/** Immutable built-in functions that read nothing but their arguments and return one value. */
const FUNCTIONS = new Set([
  'length',
  'char_length',
  'character_length',
  'octet_length',
  'lower',
  'upper',
  'btrim',
  'ltrim',
  'rtrim',
  'abs',
  'round',
  'trunc',
  'floor',
  'ceil',
  'ceiling',
  'sign',
  'mod',
  'left',
  'right',
  'substring',
  'substr',
  'position',
  'strpos',
  'starts_with',
  'split_part',
  'replace',
  'reverse',
  'md5',
  'array_length',
  'array_ndims',
  'cardinality',
  'jsonb_typeof',
  'json_typeof',
  'jsonb_array_length',
]);

/** Built-in types a cast may name (as the parser spells them), written `pg_catalog.name`. */
const TYPES = new Set([
  'bool',
  'int2',
  'int4',
  'int8',
  'numeric',
  'float4',
  'float8',
  'text',
  'varchar',
  'bpchar',
  'date',
  'timestamp',
  'timestamptz',
  'time',
  'timetz',
  'interval',
  'uuid',
  'json',
  'jsonb',
]);

const SYSTEM_COLUMNS = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid', 'oid']);

/** Deeper than this, an expression is refused rather than walked (no stack to exhaust). */
const MAX_DEPTH = 64;

type Node = Record<string, unknown>;

class Refusal {
  constructor(readonly what: string) {}
}

/**
 * Parses `expression` (a `pg_get_constraintdef` CHECK's expression, or any scalar expression)
 * and rebuilds it. Text that is not exactly one expression is refused.
 */
export function rebuildExpressionText(
  expression: string,
  resolve: ColumnResolver,
  resolveType?: TypeResolver,
): RebuiltExpression {
  let parsed: unknown;
  try {
    parsed = parseSync(`SELECT ${expression}`);
  } catch {
    return { refused: 'the expression could not be parsed' };
  }
  const tree = onlyExpression(parsed);
  if (!tree) return { refused: 'the text is not one expression' };
  return rebuildExpression(tree, resolve, resolveType);
}

/** The one target of `SELECT <expression>`, when that is all the text holds. */
function onlyExpression(parsed: unknown): unknown {
  const stmts = (parsed as { stmts?: { stmt?: Node }[] }).stmts;
  if (!Array.isArray(stmts) || stmts.length !== 1) return undefined;
  const select = stmts[0]?.stmt?.SelectStmt as Node | undefined;
  if (!select) return undefined;
  const extra = Object.keys(select).filter((key) => !['targetList', 'limitOption', 'op'].includes(key));
  const targets = select.targetList;
  if (extra.length > 0 || select.op !== 'SETOP_NONE' || !Array.isArray(targets) || targets.length !== 1)
    return undefined;
  const target = (targets[0] as { ResTarget?: { name?: string; val?: unknown } }).ResTarget;
  return target && target.name === undefined ? target.val : undefined;
}

/** Rebuilds an expression's parse tree (libpg_query's JSON), or says what it refuses. */
export function rebuildExpression(
  tree: unknown,
  resolve: ColumnResolver,
  resolveType?: TypeResolver,
): RebuiltExpression {
  const writer = new Writer(resolve, resolveType);
  try {
    const sql = writer.expression(tree, 0);
    return { sql, columns: [...writer.columns] };
  } catch (error) {
    if (error instanceof Refusal)
      return { refused: `the expression uses ${error.what}, which supagate does not evaluate in production` };
    throw error;
  }
}

class Writer {
  readonly columns = new Set<string>();

  constructor(
    private readonly resolve: ColumnResolver,
    private readonly resolveType: TypeResolver | undefined,
  ) {}

  expression(value: unknown, depth: number): string {
    if (depth > MAX_DEPTH) throw new Refusal(`an expression nested more than ${MAX_DEPTH} deep`);
    const [kind, node] = single(value);
    const next = (child: unknown) => this.expression(child, depth + 1);
    switch (kind) {
      case 'ColumnRef':
        return this.column(node);
      case 'A_Const':
        return constant(node);
      case 'TypeCast':
        return `CAST(${next(node.arg)} AS ${typeName(node.typeName, this.resolveType)})`;
      case 'A_Expr':
        return this.operation(node, next);
      case 'BoolExpr':
        return boolean(node, next);
      case 'NullTest':
        return `(${next(node.arg)} ${node.nulltesttype === 'IS_NOT_NULL' ? 'IS NOT NULL' : 'IS NULL'})`;
      case 'BooleanTest':
        return `(${next(node.arg)} ${booleanTest(node.booltesttype)})`;
      case 'CoalesceExpr':
        return `COALESCE(${list(node.args).map(next).join(', ')})`;
      case 'FuncCall':
        return call(node, next);
      case 'A_ArrayExpr':
        return `ARRAY[${list(node.elements)
          .map((element) => constantElement(element, next))
          .join(', ')}]`;
      case 'CaseExpr':
        return caseExpression(node, next);
      default:
        throw new Refusal(describeNode(kind));
    }
  }

  private column(node: Node): string {
    const fields = list(node.fields);
    const name = (fields[0] as { String?: { sval?: unknown } } | undefined)?.String?.sval;
    if (fields.length !== 1 || typeof name !== 'string')
      throw new Refusal('a qualified or star column reference');
    if (SYSTEM_COLUMNS.has(name)) throw new Refusal(`the system column ${name}`);
    const source = this.resolve(name);
    if (!source) throw new Refusal(`the column ${name}, which production's table does not have`);
    if ('unknown' in source) throw new Refusal(source.unknown);
    if ('value' in source) return source.value;
    this.columns.add(source.column);
    return quoteIdentifier(source.column);
  }

  private operation(node: Node, next: (child: unknown) => string): string {
    const op = () => operatorName(node.name);
    switch (node.kind) {
      case 'AEXPR_OP':
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE':
        if (node.lexpr === undefined) return `(${pinned(op())} ${next(node.rexpr)})`;
        return `(${next(node.lexpr)} ${pinned(op())} ${next(node.rexpr)})`;
      case 'AEXPR_OP_ANY':
      case 'AEXPR_OP_ALL':
        return `(${next(node.lexpr)} ${pinned(op())} ${node.kind === 'AEXPR_OP_ANY' ? 'ANY' : 'ALL'} (${arrayOf(node.rexpr, next)}))`;
      case 'AEXPR_IN': {
        // `x IN (…)` / `x NOT IN (…)`, written as ANY / ALL so that the operator is pinned.
        const items = `ARRAY[${list(listItems(node.rexpr))
          .map((item) => constantElement(item, next))
          .join(', ')}]`;
        return `(${next(node.lexpr)} ${pinned(op())} ${op() === '=' ? 'ANY' : 'ALL'} (${items}))`;
      }
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN': {
        const [low, high] = list(listItems(node.rexpr)).map(next);
        const value = next(node.lexpr);
        if (node.kind === 'AEXPR_BETWEEN')
          return `(${value} ${pinned('>=')} ${low} AND ${value} ${pinned('<=')} ${high})`;
        return `(${value} ${pinned('<')} ${low} OR ${value} ${pinned('>')} ${high})`;
      }
      case 'AEXPR_NULLIF': {
        const value = next(node.lexpr);
        return `(CASE WHEN ${value} ${pinned('=')} ${next(node.rexpr)} THEN NULL ELSE ${value} END)`;
      }
      case 'AEXPR_DISTINCT':
      case 'AEXPR_NOT_DISTINCT': {
        const [a, b] = [next(node.lexpr), next(node.rexpr)];
        const distinct = `(CASE WHEN ${a} IS NULL THEN ${b} IS NOT NULL WHEN ${b} IS NULL THEN true ELSE NOT (${a} ${pinned('=')} ${b}) END)`;
        return node.kind === 'AEXPR_DISTINCT' ? distinct : `(NOT ${distinct})`;
      }
      default:
        throw new Refusal(`the construct ${String(node.kind).replace(/^AEXPR_/, '')}`);
    }
  }
}

/** `{ Kind: {…} }` → its kind and body; anything else is refused. */
function single(value: unknown): [string, Node] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Refusal('an unknown node');
  const keys = Object.keys(value);
  const kind = keys[0];
  const body = kind === undefined ? undefined : (value as Node)[kind];
  if (keys.length !== 1 || kind === undefined || !body || typeof body !== 'object')
    throw new Refusal('an unknown node');
  return [kind, body as Node];
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function listItems(value: unknown): unknown {
  const [kind, node] = single(value);
  if (kind !== 'List') throw new Refusal(describeNode(kind));
  return node.items;
}

function pinned(op: string): string {
  return `OPERATOR(pg_catalog.${op})`;
}

/** The operator's name, when it is a built-in one written bare or in pg_catalog. */
function operatorName(name: unknown): string {
  const parts = list(name).map((part) => (part as { String?: { sval?: unknown } }).String?.sval);
  const op = parts[parts.length - 1];
  const schema = parts.length === 2 ? parts[0] : 'pg_catalog';
  if (typeof op !== 'string' || parts.length > 2 || schema !== 'pg_catalog' || !OPERATORS.has(op))
    throw new Refusal(`the operator ${parts.map(String).join('.')}`);
  return op;
}

function boolean(node: Node, next: (child: unknown) => string): string {
  const args = list(node.args).map(next);
  switch (node.boolop) {
    case 'AND_EXPR':
      return `(${args.join(' AND ')})`;
    case 'OR_EXPR':
      return `(${args.join(' OR ')})`;
    case 'NOT_EXPR':
      if (args.length !== 1) throw new Refusal('a malformed NOT');
      return `(NOT ${args[0]})`;
    default:
      throw new Refusal('an unknown boolean operator');
  }
}

const BOOLEAN_TESTS: Record<string, string> = {
  IS_TRUE: 'IS TRUE',
  IS_NOT_TRUE: 'IS NOT TRUE',
  IS_FALSE: 'IS FALSE',
  IS_NOT_FALSE: 'IS NOT FALSE',
  IS_UNKNOWN: 'IS UNKNOWN',
  IS_NOT_UNKNOWN: 'IS NOT UNKNOWN',
};

function booleanTest(type: unknown): string {
  const test = BOOLEAN_TESTS[String(type)];
  if (!test) throw new Refusal('an unknown boolean test');
  return test;
}

/** A constant, quoted by us: integers and decimals checked digit by digit, strings as literals. */
function constant(node: Node): string {
  if (node.isnull === true) return 'NULL';
  if ('ival' in node) {
    const value = (node.ival as { ival?: unknown }).ival ?? 0;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Refusal('a malformed integer');
    return value < 0 ? `(${value})` : String(value);
  }
  if ('fval' in node) {
    const value = String((node.fval as { fval?: unknown }).fval);
    if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value)) throw new Refusal('a malformed number');
    return value.startsWith('-') ? `(${value})` : value;
  }
  if ('boolval' in node) return (node.boolval as { boolval?: unknown }).boolval === true ? 'true' : 'false';
  if ('sval' in node) return stringLiteral(String((node.sval as { sval?: unknown }).sval ?? ''));
  throw new Refusal('a bit-string constant');
}

/**
 * A string literal whatever production's standard_conforming_strings: with a backslash, an
 * escape string (`E'…'`) with backslashes doubled, which reads the same under either setting.
 */
export function stringLiteral(value: string): string {
  if (!value.includes('\\')) return quoteLiteral(value);
  return `E${quoteLiteral(value.replace(/\\/g, '\\\\'))}`;
}

/** An element of an IN list or ARRAY[…]: a constant, or a cast of one. */
function constantElement(element: unknown, next: (child: unknown) => string): string {
  const [kind, node] = single(element);
  const isConstant = kind === 'A_Const' || (kind === 'TypeCast' && single(node.arg)[0] === 'A_Const');
  if (!isConstant) throw new Refusal('a list of values that are not constants');
  return next(element);
}

/** The right side of `= ANY (…)`: an array of constants (or a cast of one). */
function arrayOf(value: unknown, next: (child: unknown) => string): string {
  const [kind, node] = single(value);
  if (kind === 'A_ArrayExpr') return next(value);
  if (kind === 'TypeCast' && single(node.arg)[0] === 'A_ArrayExpr') return next(value);
  throw new Refusal('ANY or ALL over something other than a list of constants');
}

/**
 * `CASE WHEN … THEN … ELSE … END`; a simple `CASE x WHEN v …` is written as the searched form
 * with a pinned `=`.
 */
function caseExpression(node: Node, next: (child: unknown) => string): string {
  const subject = node.arg === undefined ? undefined : next(node.arg);
  const branches = list(node.args).map((branch) => {
    const [kind, when] = single(branch);
    if (kind !== 'CaseWhen') throw new Refusal(describeNode(kind));
    const test = subject === undefined ? next(when.expr) : `${subject} ${pinned('=')} ${next(when.expr)}`;
    return `WHEN ${test} THEN ${next(when.result)}`;
  });
  const otherwise = node.defresult === undefined ? '' : ` ELSE ${next(node.defresult)}`;
  return `(CASE ${branches.join(' ')}${otherwise} END)`;
}

function typeName(value: unknown, resolveType: TypeResolver | undefined): string {
  const node = (value ?? {}) as Node;
  const parts = list(node.names).map((part) => (part as { String?: { sval?: unknown } }).String?.sval);
  const name = parts[parts.length - 1];
  const schema = parts.length === 2 ? parts[0] : 'pg_catalog';
  if (node.setof === true || node.pct_type === true) throw new Refusal(`a cast to ${String(name)}`);
  const bounds = list(node.arrayBounds).map(() => '[]');
  if (
    typeof name === 'string' &&
    typeof schema === 'string' &&
    parts.length === 2 &&
    schema !== 'pg_catalog'
  ) {
    const production = list(node.typmods).length === 0 ? resolveType?.(schema, name) : undefined;
    if (production === undefined) throw new Refusal(`a cast to ${schema}.${name}`);
    return `${production}${bounds.join('')}`;
  }
  if (typeof name !== 'string' || parts.length > 2 || schema !== 'pg_catalog' || !TYPES.has(name))
    throw new Refusal(`a cast to ${parts.map(String).join('.')}`);
  const mods = list(node.typmods).map((mod) => {
    const [kind, body] = single(mod);
    const ival = (body.ival as { ival?: unknown } | undefined)?.ival ?? 0;
    if (kind !== 'A_Const' || !('ival' in body) || typeof ival !== 'number' || !Number.isSafeInteger(ival))
      throw new Refusal(`a cast to ${name} with a modifier that is not a number`);
    return String(ival);
  });
  return `pg_catalog.${name}${mods.length > 0 ? `(${mods.join(', ')})` : ''}${bounds.join('')}`;
}

function call(node: Node, next: (child: unknown) => string): string {
  const parts = list(node.funcname).map((part) => (part as { String?: { sval?: unknown } }).String?.sval);
  const name = parts[parts.length - 1];
  const schema = parts.length === 2 ? parts[0] : 'pg_catalog';
  const written = parts.map(String).join('.');
  if (typeof name !== 'string' || parts.length > 2 || schema !== 'pg_catalog' || !FUNCTIONS.has(name))
    throw new Refusal(`the function ${written}`);
  const modifiers = [
    'agg_order',
    'agg_filter',
    'over',
    'agg_within_group',
    'agg_star',
    'agg_distinct',
    'func_variadic',
  ];
  if (modifiers.some((key) => node[key] !== undefined && node[key] !== false))
    throw new Refusal(`the function ${written} as an aggregate, window or variadic call`);
  return `pg_catalog.${name}(${list(node.args).map(next).join(', ')})`;
}

const NODE_WORDS: Record<string, string> = {
  SubLink: 'a sub-select',
  SelectStmt: 'a sub-select',
  ParamRef: 'a parameter',
  SQLValueFunction: 'a session value (CURRENT_USER, CURRENT_DATE…)',
  A_Indirection: 'a subscript or field selection',
  RowExpr: 'a row constructor',
  MinMaxExpr: 'GREATEST or LEAST',
  CollateClause: 'a COLLATE clause',
  XmlExpr: 'an XML expression',
  NamedArgExpr: 'a named argument',
};

function describeNode(kind: string): string {
  return NODE_WORDS[kind] ?? `a node of kind ${kind}`;
}
