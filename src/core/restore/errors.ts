import type { BackupManifest } from '../backup/manifest.js';
import type { Client } from '../db/connect.js';
import { pgErrorFields } from '../db/connect.js';
import { SupagateError } from '../errors.js';

export const NOTHING_CHANGED =
  'Nothing was changed: the restore runs in one transaction, which was rolled back.';

/** One statement the restore runs, with what it is for (for error messages). */
export interface Statement {
  sql: string;
  params?: unknown[];
  what: string;
}

export async function runStatement(client: Client, statement: Statement): Promise<void> {
  try {
    await client.query(statement.sql, statement.params);
  } catch (error) {
    throw sqlFailed(statement.what, statement.sql, error);
  }
}

export { quoteIdentifier as ident, quoteLiteral as literal } from '../sql/quote.js';

export function describeList(items: string[], max = 8): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
export function restoreFailed(
  reason: string,
  options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
): SupagateError {
  return new SupagateError('RESTORE_FAILED', `Restore failed: ${reason}`, {
    hint: options.hint ?? NOTHING_CHANGED,
    ...(options.details ? { details: options.details } : {}),
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** A statement failed: names what it was doing and the statement (the line PostgreSQL points at). */
export function sqlFailed(what: string, sql: string, error: unknown): SupagateError {
  if (error instanceof SupagateError) return error;
  const fields = pgErrorFields(error);
  const statement = statementAt(sql, fields.position);
  const lockTimeout = fields.code === '55P03';
  return restoreFailed(`${what}: ${fields.message}${statement ? ` (at: ${statement})` : ''}`, {
    hint: lockTimeout
      ? `Another session holds a lock the restore needs; retry when it is done, or raise the lock timeout. ${NOTHING_CHANGED}`
      : NOTHING_CHANGED,
    details: {
      step: what,
      ...(statement ? { statement } : {}),
      ...(fields.code ? { sqlstate: fields.code } : {}),
      ...(fields.detail ? { detail: fields.detail } : {}),
    },
    cause: error,
  });
}

/** The statement line an error position points at, else the first statement of the text. */
function statementAt(sql: string, position: string | undefined): string | undefined {
  const lines = sql.split('\n');
  if (position !== undefined && Number(position) > 0) {
    const index = Math.min(Number(position) - 1, sql.length - 1);
    const start = sql.lastIndexOf('\n', index) + 1;
    const end = sql.indexOf('\n', index);
    const line = sql.slice(start, end < 0 ? undefined : end).trim();
    if (line) return truncate(line);
  }
  const first = lines.find((line) => line.trim() !== '' && !line.startsWith('--'));
  return first === undefined ? undefined : truncate(first.trim());
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function unsafeDependents(
  manifest: BackupManifest,
  dependents: string[],
  fix: string[] = [],
): SupagateError {
  const drops = fix.filter((sql) => sql.startsWith('DROP '));
  const creates = fix.filter((sql) => !sql.startsWith('DROP '));
  const covered = drops.length === dependents.length;
  return new SupagateError(
    'RESTORE_UNSAFE',
    `Restoring backup ${manifest.id} would drop ${dependents.length} object${dependents.length === 1 ? '' : 's'} outside what it restores, which depend on objects it replaces and would not come back: ${describeList(dependents, 10)}`,
    {
      hint: covered
        ? `Put ${dependents.length === 1 ? 'it' : 'them'} out of the way, restore, and put ${dependents.length === 1 ? 'it' : 'them'} back. Before: ${drops.map((sql) => `${sql};`).join(' ')} After: ${creates.map((sql) => `${sql};`).join(' ')} Nothing was changed.`
        : 'Drop them first and re-create them after the restore (or restore by hand with pg_restore). Nothing was changed.',
      details: { backupId: manifest.id, dependents, ...(covered ? { fix } : {}) },
    },
  );
}
