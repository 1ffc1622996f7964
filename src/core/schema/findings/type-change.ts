/** How a column's type change treats the values it holds: what narrowing and lossy-change hazards read. */
export type TypeConversion = 'same' | 'binary-compatible' | 'widening' | 'narrowing' | 'other';

/** The integer types by width: a conversion to a lower rank narrows. */
export const INTEGER_RANK: Readonly<Record<string, number>> = { smallint: 1, integer: 2, bigint: 3 };

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
