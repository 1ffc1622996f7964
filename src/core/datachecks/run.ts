import { type Client, isConnectionLost, pgErrorFields } from '../db/connect.js';
import type { PendingStatement, PendingStatements } from '../schema/findings/pending.js';
import { locationOf } from '../schema/findings/pending.js';
import { earlierWrites } from './earlier-writes.js';
import type { DataCheck, DataCheckSpec } from './model.js';
import { type CheckQueries, checkQueries } from './queries.js';

export interface DataCheckOptions {
  /** Each count gives up after this long (statement_timeout); its check is then not decided. */
  timeoutMs: number;
  /** Counts start only while the checks together have taken less than this (default 60 s). */
  budgetMs?: number;
}

const BUDGET_MS = 60_000;

/**
 * Runs each check's count on production, one read-only transaction each, so that one that
 * times out or is refused leaves the others to run. Only counts are read: no row content.
 */
export async function runDataChecks(
  client: Client,
  specs: DataCheckSpec[],
  pending: PendingStatements,
  options: DataCheckOptions,
): Promise<DataCheck[]> {
  const started = performance.now();
  const budget = options.budgetMs ?? BUDGET_MS;
  const checks: DataCheck[] = [];
  for (const spec of specs) {
    const spent = performance.now() - started >= budget;
    checks.push(
      spent
        ? {
            ...describe(spec, checkQueries(spec.subject)),
            outcome: 'not-checked',
            reason: `the data checks' time (${duration(budget)}) was spent on the checks before it`,
          }
        : await runOne(client, spec, pending, options),
    );
  }
  return checks;
}

async function runOne(
  client: Client,
  spec: DataCheckSpec,
  pending: PendingStatements,
  options: DataCheckOptions,
): Promise<DataCheck> {
  const queries = checkQueries(spec.subject);
  const base = describe(spec, queries);
  const writes = earlierWrites(spec, pending);
  if (writes.kind === 'back-filled')
    return { ...base, outcome: 'back-filled', reason: `back-filled first by ${where(writes.by)}` };
  const counted = await count(client, queries.count, options);
  if ('reason' in counted) return { ...base, outcome: 'not-checked', reason: counted.reason };
  const found = {
    violations: counted.violations,
    ...(counted.rows !== undefined ? { rows: counted.rows } : {}),
  };
  if (writes.kind === 'changes-rows')
    return {
      ...base,
      ...found,
      outcome: 'undecidable',
      reason: `${where(writes.by)} first changes rows this check counts: counted on production as it is now`,
    };
  return { ...base, ...found, outcome: counted.violations > 0 ? 'violations' : 'passed' };
}

/** What a check is about, before any count. */
function describe(spec: DataCheckSpec, queries: CheckQueries): Omit<DataCheck, 'outcome'> {
  return {
    kind: spec.subject.kind,
    object: spec.object,
    action: spec.action,
    listQuery: queries.list,
    estimatedRows: spec.subject.table.estimatedRows,
    ...(spec.at ? { location: locationOf(spec.at) } : {}),
  };
}

function where(statement: PendingStatement): string {
  return `${statement.migration.path}:${statement.statement.line}`;
}

type Counted = { violations: number; rows?: number } | { reason: string };

async function count(client: Client, sql: string, options: DataCheckOptions): Promise<Counted> {
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(options.timeoutMs))}`);
    // Waiting behind a lock would stall the plan; a check that cannot read at once is not decided.
    await client.query(
      `SET LOCAL lock_timeout = ${Math.min(2_000, Math.max(1, Math.round(options.timeoutMs)))}`,
    );
    // A role subject to RLS would count only the rows it may see: refuse rather than undercount.
    await client.query('SET LOCAL row_security = off');
    const { rows } = await client.query<{ violations: string; rows?: string }>(sql);
    await client.query('COMMIT');
    const row = rows[0];
    return {
      violations: Number(row?.violations ?? 0),
      ...(row?.rows !== undefined ? { rows: Number(row.rows) } : {}),
    };
  } catch (error) {
    if (isConnectionLost(error)) throw error;
    await client.query('ROLLBACK').catch(() => {});
    return { reason: refusal(error, options) };
  }
}

function refusal(error: unknown, options: DataCheckOptions): string {
  const { code, message } = pgErrorFields(error);
  if (code === '57014') return `the count did not finish within ${duration(options.timeoutMs)}`;
  if (code === '55P03') return 'another session holds a lock on the table';
  if (code === '42501' && /row-level security/i.test(message))
    return "production's role is subject to row level security: a count would miss rows";
  return `production refused the count${code ? ` (SQLSTATE ${code})` : ''}: ${message}`;
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
}
