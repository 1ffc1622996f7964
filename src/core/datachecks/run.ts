import { DEFAULTS } from '../config.js';
import { type Client, isConnectionLost, pgErrorFields } from '../db/connect.js';
import type { PendingStatement, PendingStatements } from '../schema/findings/pending.js';
import { locationOf } from '../schema/findings/pending.js';
import { earlierWrites } from './earlier-writes.js';
import type { DataCheck, DataCheckEstimate, DataCheckSpec } from './model.js';
import { type CheckQueries, checkQueries, type Sample } from './queries.js';

export interface DataCheckOptions {
  /** Each count gives up after this long (statement_timeout); its check is then not decided. */
  timeoutMs: number;
  /** Counts start only while the checks together have taken less than this (default 60 s). */
  budgetMs?: number;
  /**
   * Tables with more rows than this (production's estimate) are sampled rather than counted in
   * full, the sample reading about this many rows (default: the config's).
   */
  sampleAboveRows?: number;
  /** Primary key values of up to this many rows in the way, shown with the count (default 0: none). */
  keyValues?: number;
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
            ...describe(spec, checkQueries(spec.subject, sampleOf(spec, options))),
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
  const sample = sampleOf(spec, options);
  const queries = checkQueries(spec.subject, sample);
  const base = describe(spec, queries);
  if (!queries) return { ...base, outcome: 'not-checked', reason: refusedReason(spec) };
  const writes = earlierWrites(spec, pending);
  if (writes.kind === 'back-filled')
    return { ...base, outcome: 'back-filled', reason: `back-filled first by ${where(writes.by)}` };
  const counted = await count(client, queries.count, options);
  if ('reason' in counted)
    return { ...base, outcome: 'not-checked', reason: counted.reason + unsampledNote(spec, options) };
  const found = {
    ...measured(spec, counted, sample),
    ...(await keysOf(client, spec, queries, counted, options)),
  };
  if (writes.kind === 'changes-rows')
    return {
      ...base,
      ...found,
      outcome: 'undecidable',
      reason: `${where(writes.by)} first changes rows this check counts: counted on production as it is now`,
    };
  if (found.violations > 0) return { ...base, ...found, outcome: 'violations' };
  if (found.estimate?.method !== 'sample') return { ...base, ...found, outcome: 'passed' };
  return {
    ...base,
    ...found,
    outcome: 'clean-sample',
    reason: cleanSampleReason(spec, found.estimate, options),
  };
}

/** What a check is about, before any count. */
function describe(spec: DataCheckSpec, queries: CheckQueries | undefined): Omit<DataCheck, 'outcome'> {
  return {
    kind: spec.subject.kind,
    object: spec.object,
    action: spec.action,
    ...(queries ? { listQuery: queries.list } : {}),
    estimatedRows: spec.subject.table.estimatedRows,
    ...(spec.at ? { location: locationOf(spec.at) } : {}),
  };
}

function threshold(options: DataCheckOptions): number {
  return options.sampleAboveRows ?? DEFAULTS.dataCheckSampleAboveRows;
}

/**
 * The sample of a table above the threshold: about `threshold` rows of it, which take about as
 * long to read as a full count of a table at the threshold. A unique index is never sampled
 * (two copies of a value may lie in pages a sample does not read).
 */
function sampleOf(spec: DataCheckSpec, options: DataCheckOptions): Sample | undefined {
  const rows = spec.subject.table.estimatedRows;
  const above = threshold(options);
  if (spec.subject.kind === 'unique' || rows <= above) return undefined;
  return { percent: Math.max(0.0001, Number(((100 * above) / rows).toPrecision(2))) };
}

type Found = Pick<DataCheck, 'violations' | 'rows' | 'estimate'> & { violations: number };

/** The count, scaled up to the whole table when it was made on a sample. */
function measured(spec: DataCheckSpec, counted: Measured, sample: Sample | undefined): Found {
  const rows = counted.rows !== undefined ? { rows: counted.rows } : {};
  if (!sample) return { violations: counted.violations, ...rows };
  const estimatedRows = spec.subject.table.estimatedRows;
  // A NOT NULL column added without a default: the table has a row (or none), and about its estimate.
  if (spec.subject.kind === 'new-column-not-null')
    return counted.violations > 0
      ? { violations: Math.max(1, estimatedRows), estimate: { method: 'statistics' } }
      : { violations: 0 };
  const sampledRows = counted.sampled ?? 0;
  const scaled = sampledRows > 0 ? Math.round((counted.violations * estimatedRows) / sampledRows) : 0;
  return {
    violations: Math.max(counted.violations, scaled),
    estimate: { method: 'sample', percent: sample.percent, sampledRows },
  };
}

function cleanSampleReason(
  spec: DataCheckSpec,
  estimate: Extract<DataCheckEstimate, { method: 'sample' }>,
  options: DataCheckOptions,
): string {
  const rows = spec.subject.table.estimatedRows.toLocaleString('en-US');
  return (
    `a ${estimate.percent}% sample (${estimate.sampledRows.toLocaleString('en-US')} rows) has no row in the way; ` +
    `the full count was skipped: the table has about ${rows} rows, above the ${threshold(options).toLocaleString('en-US')} from which supagate samples`
  );
}

/** Why a unique index over a large table was counted in full, when that count failed. */
function unsampledNote(spec: DataCheckSpec, options: DataCheckOptions): string {
  if (spec.subject.kind !== 'unique' || spec.subject.table.estimatedRows <= threshold(options)) return '';
  return ' (a unique index cannot be checked on a sample: its duplicates may lie in pages a sample skips)';
}

function refusedReason(spec: DataCheckSpec): string {
  const { subject } = spec;
  if (subject.kind === 'check' && 'refused' in subject.expression) return subject.expression.refused;
  if (subject.kind === 'unique' && subject.refused !== undefined) return subject.refused;
  return 'supagate builds no query for it';
}

function where(statement: PendingStatement): string {
  return `${statement.migration.path}:${statement.statement.line}`;
}

interface Measured {
  violations: number;
  rows?: number;
  sampled?: number;
}

type Counted = Measured | { reason: string };

async function count(client: Client, sql: string, options: DataCheckOptions): Promise<Counted> {
  const read = await readOnly<{ violations: string; rows?: string; sampled?: string }>(client, sql, options);
  if ('reason' in read) return read;
  const row = read.rows[0];
  return {
    violations: Number(row?.violations ?? 0),
    ...(row?.rows !== undefined ? { rows: Number(row.rows) } : {}),
    ...(row?.sampled !== undefined ? { sampled: Number(row.sampled) } : {}),
  };
}

/**
 * The primary key values of a few rows in the way, when the configuration asks for them and
 * the count found some. A failure to read them leaves the count as it is, without keys.
 */
async function keysOf(
  client: Client,
  spec: DataCheckSpec,
  queries: CheckQueries,
  counted: Measured,
  options: DataCheckOptions,
): Promise<Pick<DataCheck, 'keys' | 'keyColumns'>> {
  const limit = options.keyValues ?? 0;
  if (limit <= 0 || counted.violations === 0 || !queries.keys) return {};
  const read = await readOnly<{ key: string }>(client, queries.keys(limit), options);
  if ('reason' in read || read.rows.length === 0) return {};
  return { keys: read.rows.map((row) => row.key), keyColumns: spec.subject.table.primaryKey };
}

/** One query in a read-only transaction of its own, bounded in time, that RLS cannot narrow. */
async function readOnly<R extends object>(
  client: Client,
  sql: string,
  options: DataCheckOptions,
): Promise<{ rows: R[] } | { reason: string }> {
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(options.timeoutMs))}`);
    // Waiting behind a lock would stall the plan; a check that cannot read at once is not decided.
    await client.query(
      `SET LOCAL lock_timeout = ${Math.min(2_000, Math.max(1, Math.round(options.timeoutMs)))}`,
    );
    // A role subject to RLS would count only the rows it may see: refuse rather than undercount.
    await client.query('SET LOCAL row_security = off');
    const { rows } = await client.query<R>(sql);
    await client.query('COMMIT');
    return { rows };
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
  // A data exception's message may quote the row's value (`invalid input syntax …: "…"`): not shown.
  if (code?.startsWith('22'))
    return `evaluating it on production's rows fails (SQLSTATE ${code}): a row holds a value it cannot take, so the statement would fail there too`;
  return `production refused the count${code ? ` (SQLSTATE ${code})` : ''}: ${message}`;
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
}
