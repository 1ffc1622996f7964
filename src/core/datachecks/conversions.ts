import type { ParseNode } from '../migrations/model.js';
import type { MemberChange } from '../schema/changes.js';
import type { Found } from '../schema/findings/locate.js';
import { alterTableCommands, strings } from '../schema/findings/tree.js';
import { INTEGER_RANK } from '../schema/findings/type-change.js';
import type { ConversionLimit } from './model.js';

const INTEGER_RANGE: Record<string, [string, string]> = {
  smallint: ['-32768', '32767'],
  integer: ['-2147483648', '2147483647'],
};
const INTEGERS = new Set(Object.keys(INTEGER_RANK));

/**
 * What the column's new type refuses of the values it holds, for the conversions that fail
 * (rather than cut or round) on a value that does not fit: a smaller integer, a shorter
 * `character varying(n)` (converted without USING: an explicit cast would cut instead), fewer
 * digits before a numeric's point. Undefined for any other conversion, or one written with a
 * USING expression of its own: those are not evaluated on production.
 */
export function conversionLimit(
  member: MemberChange,
  from: string,
  to: string,
  at: Found,
): ConversionLimit | undefined {
  const using = usingOf(at, member);
  if (using === 'expression') return undefined;
  const range = INTEGER_RANGE[to];
  if (range && (INTEGER_RANK[from] ?? 0) > (INTEGER_RANK[to] ?? 0))
    return { kind: 'integer-range', type: to, min: range[0], max: range[1] };
  const length = /^character varying\((\d+)\)$/.exec(to);
  if (length && using === 'none' && (from === 'text' || from.startsWith('character varying')))
    return { kind: 'max-length', type: to, length: Number(length[1]) };
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(to);
  if (numeric && (INTEGERS.has(from) || from.startsWith('numeric'))) {
    const [precision, scale] = [Number(numeric[1]), Number(numeric[2])];
    return { kind: 'numeric-digits', type: to, integerDigits: precision - scale, scale };
  }
  return undefined;
}

/**
 * The ALTER COLUMN … TYPE's USING clause: none, the column itself (or its plain cast to the new
 * type, which converts as no USING does), or an expression of the migration's.
 */
function usingOf(at: Found, member: MemberChange): 'none' | 'cast' | 'expression' {
  if (!at) return 'expression';
  const names = [member.name, ...(member.renamedFrom ? [member.renamedFrom] : [])];
  const command = alterTableCommands(at.statement.tree).find(
    (cmd) => cmd.subtype === 'AT_AlterColumnType' && names.includes(cmd.name ?? ''),
  );
  if (!command) return 'expression';
  const using = (command.def?.ColumnDef as { raw_default?: ParseNode } | undefined)?.raw_default;
  if (!using) return 'none';
  const cast = (using.TypeCast as { arg?: ParseNode } | undefined)?.arg ?? using;
  const column = strings((cast.ColumnRef as { fields?: unknown } | undefined)?.fields).pop();
  return column !== undefined && names.includes(column) ? 'cast' : 'expression';
}
