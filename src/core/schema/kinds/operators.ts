import { quoteIdent } from '../../sql/identifiers.js';
import { quoteLiteral } from '../../sql/quote.js';
import { commentOf, extensionMember, type Nullable, sortedRecord } from '../introspect-sql.js';
import type { CatalogKind } from './catalog-kind.js';

/*
 * Operators (CREATE OPERATOR) of the user schemas, not an extension's.
 *
 * A shell operator (no function: PostgreSQL makes one for a COMMUTATOR or NEGATOR that does not
 * exist yet) is not an object of its own: it is part of the operator naming it, whose DDL makes
 * it again. A shell nothing names any more is listed as not compared (not-compared.ts).
 *
 * Commutator and negator are kept as regoperator text (`public.===(integer,integer)`): their
 * argument types follow from the operator's (swapped for a commutator), so the DDL names them by
 * the operator name alone, as CREATE OPERATOR takes them.
 */

export interface Operator {
  schema: string;
  /** The operator's symbol (`===`). */
  name: string;
  /** format_type of the left operand, null for a prefix operator. */
  left: Nullable<string>;
  right: Nullable<string>;
  /** regproc of the implementing function. */
  function: string;
  /** regoperator text, or null. */
  commutator: Nullable<string>;
  negator: Nullable<string>;
  /** regproc of the restriction and join selectivity estimators, or null. */
  restrict: Nullable<string>;
  join: Nullable<string>;
  hashes: boolean;
  merges: boolean;
  owner: string;
  comment: Nullable<string>;
}

interface OperatorRow extends Operator {
  id: string;
}

const regproc = (column: string) => `CASE WHEN ${column} <> 0 THEN ${column}::regproc::text END`;
const regoperator = (column: string) => `CASE WHEN ${column} <> 0 THEN ${column}::regoperator::text END`;
const typeName = (column: string) => `CASE WHEN ${column} <> 0 THEN format_type(${column}, NULL) END`;

function operatorsQuery(userSchemas: string): string {
  return `SELECT o.oid::regoperator::text AS id, n.nspname::text AS schema, o.oprname::text AS name,
  ${typeName('o.oprleft')} AS left, ${typeName('o.oprright')} AS right,
  o.oprcode::regproc::text AS function,
  ${regoperator('o.oprcom')} AS commutator, ${regoperator('o.oprnegate')} AS negator,
  ${regproc('o.oprrest')} AS restrict, ${regproc('o.oprjoin')} AS join,
  o.oprcanhash AS hashes, o.oprcanmerge AS merges,
  pg_get_userbyid(o.oprowner)::text AS owner, ${commentOf('o.oid', 'pg_operator')} AS comment
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oprnamespace IN (${userSchemas}) AND o.oprcode <> 0
  AND NOT ${extensionMember('pg_operator', 'o.oid')}`;
}

function assembleOperators(rows: OperatorRow[]): Record<string, Operator> {
  return sortedRecord(rows.map(({ id, ...operator }): [string, Operator] => [id, operator]));
}

/** Blocks of statements, a blank line between blocks (empty ones left out), as ddl.ts renders. */
export function renderBlocks(blocks: string[][]): string {
  return `${blocks
    .filter((block) => block.length > 0)
    .map((block) => block.join('\n'))
    .join('\n\n')}\n`;
}

export function commentStatement(on: string, text: Nullable<string>): string[] {
  return text === null ? [] : [`COMMENT ON ${on} IS ${quoteLiteral(text)};`];
}

/** A comma-separated clause list, one item a line, ending with `last`. */
export function itemLines(items: string[], last: string): string[] {
  return items.map((item, i) => `    ${item}${i < items.length - 1 ? ',' : last}`);
}

/**
 * The name part of a commutator or negator's regoperator text, as OPERATOR(name): the text ends
 * with the argument list `suffix` (known from the operator's own operands).
 */
function operatorName(regoperatorText: string, suffix: string): string {
  const name = regoperatorText.endsWith(suffix)
    ? regoperatorText.slice(0, -suffix.length)
    : regoperatorText.slice(0, regoperatorText.lastIndexOf('('));
  return `OPERATOR(${name})`;
}

function operatorDdl(operator: Operator, v: number): string {
  const name = `${quoteIdent(operator.schema, v)}.${operator.name}`;
  const [left, right] = [operator.left ?? 'NONE', operator.right ?? 'NONE'];
  const signature = `${name} (${left}, ${right})`;
  const options = [`FUNCTION = ${operator.function}`];
  if (operator.left !== null) options.push(`LEFTARG = ${operator.left}`);
  if (operator.right !== null) options.push(`RIGHTARG = ${operator.right}`);
  if (operator.commutator !== null)
    options.push(`COMMUTATOR = ${operatorName(operator.commutator, `(${right},${left})`)}`);
  if (operator.negator !== null)
    options.push(`NEGATOR = ${operatorName(operator.negator, `(${left},${right})`)}`);
  if (operator.restrict !== null) options.push(`RESTRICT = ${operator.restrict}`);
  if (operator.join !== null) options.push(`JOIN = ${operator.join}`);
  if (operator.hashes) options.push('HASHES');
  if (operator.merges) options.push('MERGES');
  return renderBlocks([
    [`CREATE OPERATOR ${name} (`, ...itemLines(options, ''), ');'],
    [`ALTER OPERATOR ${signature} OWNER TO ${quoteIdent(operator.owner, v)};`],
    commentStatement(`OPERATOR ${signature}`, operator.comment),
  ]);
}

export const operatorKind: CatalogKind<OperatorRow, Operator> = {
  kind: 'operator',
  key: 'operators',
  query: (scope) => operatorsQuery(scope.userSchemas),
  assemble: assembleOperators,
  ddl: operatorDdl,
  identity: new Set(['schema', 'name', 'left', 'right']),
};
