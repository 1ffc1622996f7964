import { HAZARD_CATEGORY } from '../schema/findings/codes.js';
import type { Hazard } from '../schema/findings/hazard.js';
import type { DataCheck } from './model.js';

/** A check whose rows make its statement fail in production: a blocking hazard at that statement. */
export function dataCheckHazards(checks: DataCheck[]): Hazard[] {
  return checks
    .filter((check) => check.outcome === 'violations')
    .map((check) => ({
      code: 'data-check-failed',
      category: HAZARD_CATEGORY['data-check-failed'],
      severity: 'blocking',
      message: `${violationText(check)}${estimateNote(check)}: ${check.action} fails in production`,
      object: check.object,
      ...(check.location ? { location: check.location } : {}),
    }));
}

/** What is in the way, and (when configured) the primary keys of a few of those rows. */
export function violationText(check: DataCheck): string {
  return `${inTheWay(check)}${keysNote(check)}`;
}

/** `, among them id = 3, 7` or `, among them (team_id, day) = (1, 2024-01-01), …`. */
function keysNote(check: DataCheck): string {
  if (!check.keys?.length || !check.keyColumns?.length) return '';
  const composite = check.keyColumns.length > 1;
  const columns = composite ? `(${check.keyColumns.join(', ')})` : check.keyColumns[0];
  const values = check.keys.map((key) => (composite ? `(${key})` : key)).join(', ');
  return `, among them ${columns} = ${values}`;
}

/** `12 rows have no value`, in the terms of the check's kind; `about 12 rows` when estimated. */
function inTheWay(check: DataCheck): string {
  const n = check.violations ?? 0;
  const about = check.estimate ? 'about ' : '';
  const rows = (count: number) => `${about}${count.toLocaleString('en-US')} ${count === 1 ? 'row' : 'rows'}`;
  switch (check.kind) {
    case 'not-null':
      return `${rows(n)} ${n === 1 ? 'has' : 'have'} no value`;
    case 'new-column-not-null':
      return `the table has ${rows(n)}, which would get no value`;
    case 'unique':
      return `${n.toLocaleString('en-US')} ${n === 1 ? 'value appears' : 'values appear'} more than once (${rows(check.rows ?? 0)})`;
    case 'foreign-key':
      return `${rows(n)} ${n === 1 ? 'references' : 'reference'} no existing row`;
    case 'conversion':
      return `${rows(n)} ${n === 1 ? 'holds a value' : 'hold values'} the new type cannot hold`;
    case 'check':
      return `${rows(n)} ${n === 1 ? 'violates' : 'violate'} it`;
  }
}

/** ` (estimated from a 0.5% sample of the table)`, when the count is an estimate. */
export function estimateNote(check: DataCheck): string {
  if (check.estimate?.method === 'sample')
    return ` (estimated from a ${check.estimate.percent}% sample of the table)`;
  if (check.estimate?.method === 'statistics') return " (production's estimate of the table's rows)";
  return '';
}
