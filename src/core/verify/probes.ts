import { type Client, connect, disconnect, pgErrorFields } from '../db/connect.js';
import { SupagateError } from '../errors.js';
import { normalizeTable, quotedTableSql } from './identity.js';

/*
 * RLS probes: the check Supabase's docs recommend, run against the real database. For each
 * identity and table:
 *
 *   BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
 *   SET LOCAL ROLE <role>;
 *   SELECT set_config('request.jwt.claims', '<claims as JSON>', true);
 *   SELECT count(*) FROM <table>;
 *   ROLLBACK;
 *
 * on one dedicated read-only connection, in one round trip; when a statement fails the
 * transaction is rolled back explicitly. The role and the claims are transaction-local, so
 * nothing survives a probe: every probe ends with ROLLBACK, and after the last one the session
 * is checked to be back to its own role. Read-only like PostgREST's GET requests: a policy
 * that writes fails the probe instead of writing.
 *
 * Outcomes: the number of rows the identity sees; `denied` when the role has no privilege on
 * the table (42501: PostgREST would answer 401/403), counted as 0 visible; `missing` when the
 * table does not exist; `error` for anything else (a policy that raises…), counted as 0.
 */

export interface ProbeIdentity {
  /** How reports and expectations name it: `anon`, `alice`. */
  name: string;
  /** The database role requests of this identity run as: anon, authenticated, or another. */
  role: string;
  /**
   * The JWT claims (`{ sub: '<uuid>', role: 'authenticated' }`), as PostgREST puts them in
   * `request.jwt.claims`. `role` defaults to the identity's role.
   */
  claims?: Record<string, unknown>;
}

export interface ProbeResult {
  identity: string;
  table: string;
  /** Rows the identity sees; 0 when denied, missing or failed. */
  visibleRows: number;
  /** No privilege on the table (42501). */
  denied?: true;
  /** The table does not exist. */
  missing?: true;
  /** Any other error: SQLSTATE and message. */
  error?: string;
}

export interface ProbeOptions {
  /** `statement_timeout` of each count (default 60s). */
  statementTimeoutMs?: number;
  /** `lock_timeout` of each count (default 10s). */
  lockTimeoutMs?: number;
}

/** The identities probed when none are configured: the two API roles, without a user. */
export const DEFAULT_PROBE_IDENTITIES: readonly ProbeIdentity[] = [
  { name: 'anon', role: 'anon' },
  { name: 'authenticated', role: 'authenticated' },
];

/** Probes every identity × table on a dedicated read-only connection. */
export async function runProbes(
  url: string,
  identities: ProbeIdentity[],
  tables: string[],
  options: ProbeOptions = {},
): Promise<ProbeResult[]> {
  if (identities.length === 0 || tables.length === 0) return [];
  const connection = await connect(url, { readOnly: true, applicationName: 'supagate verify (probes)' });
  try {
    return await probeWith(connection.client, identities, tables, options);
  } finally {
    await disconnect(connection);
  }
}

/**
 * runProbes() on a connection the caller owns. The client must not be in a transaction; it is
 * left as it was found: no transaction open, its own role, no claims.
 */
export async function probeWith(
  client: Client,
  identities: ProbeIdentity[],
  tables: string[],
  options: ProbeOptions = {},
): Promise<ProbeResult[]> {
  const ids = [...new Set(tables.map(normalizeTable))];
  const existing = await existingRoles(
    client,
    identities.map((identity) => identity.role),
  );
  const sessionBefore = await sessionState(client);
  const results: ProbeResult[] = [];
  for (const identity of identities) {
    for (const table of ids) {
      if (!existing.has(identity.role)) {
        results.push({
          identity: identity.name,
          table,
          visibleRows: 0,
          error: `role "${identity.role}" does not exist`,
        });
        continue;
      }
      results.push(await probeOne(client, identity, table, options));
    }
  }
  if ((await sessionState(client)) !== sessionBefore) {
    throw new SupagateError(
      'VERIFY_PROBE_FAILED',
      'An RLS probe left its role or claims set on the session',
      {
        hint: 'This is a bug in supagate: report it.',
      },
    );
  }
  return results;
}

/** The session's role and claims, to check that probes leave them as they were. */
async function sessionState(client: Client): Promise<string> {
  const { rows } = await client.query<{ state: string }>(
    `SELECT current_user || '/' || coalesce(current_setting('request.jwt.claims', true), '') AS state`,
  );
  return rows[0]?.state ?? '';
}

async function probeOne(
  client: Client,
  identity: ProbeIdentity,
  table: string,
  options: ProbeOptions,
): Promise<ProbeResult> {
  const claims = JSON.stringify({ role: identity.role, ...(identity.claims ?? {}) });
  const statements = [
    'BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY',
    `SET LOCAL statement_timeout = ${Math.max(0, Math.round(options.statementTimeoutMs ?? 60_000))}`,
    `SET LOCAL lock_timeout = ${Math.max(0, Math.round(options.lockTimeoutMs ?? 10_000))}`,
    `SET LOCAL ROLE ${client.escapeIdentifier(identity.role)}`,
    `SELECT set_config('request.jwt.claims', ${client.escapeLiteral(claims)}, true)`,
    `SELECT count(*)::text AS n FROM ${quotedTableSql(table)}`,
    'ROLLBACK',
  ];
  const base = { identity: identity.name, table };
  let failure: unknown;
  try {
    // The last statement is ROLLBACK: when every statement succeeds, the probe is over.
    const results = (await client.query(statements.join(';\n'))) as unknown as { rows: { n?: string }[] }[];
    const count = results[results.length - 2]?.rows[0]?.n;
    return { ...base, visibleRows: Number(count ?? 0) };
  } catch (error) {
    failure = error;
  }
  // A statement failed: the rest (ROLLBACK included) did not run. End the transaction here.
  try {
    await client.query('ROLLBACK');
  } catch (error) {
    throw new SupagateError(
      'VERIFY_PROBE_FAILED',
      `Could not roll back the RLS probe of ${table} as ${identity.name}: ${pgErrorFields(error).message}`,
      { hint: 'The connection to the database was lost; run verification again.', cause: error },
    );
  }
  const fields = pgErrorFields(failure);
  if (fields.code === '42501') return { ...base, visibleRows: 0, denied: true };
  if (fields.code === '42P01' || fields.code === '3F000') return { ...base, visibleRows: 0, missing: true };
  return { ...base, visibleRows: 0, error: `${fields.code ? `${fields.code}: ` : ''}${fields.message}` };
}

async function existingRoles(client: Client, roles: string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ rolname: string }>(
    'SELECT rolname::text FROM pg_roles WHERE rolname = ANY ($1::text[])',
    [[...new Set(roles)]],
  );
  return new Set(rows.map((row) => row.rolname));
}

// ---------------------------------------------------------------------------------------------
// Expectations and comparison

/** Rows an identity must see on a table after the apply. */
export interface ProbeExpectation {
  identity: string;
  table: string;
  /** Exactly this many rows, or a range. */
  visible?: number | { min?: number; max?: number };
  /** true: at least one row; false: none. */
  canSee?: boolean;
}

export interface VisibilityChange {
  identity: string;
  table: string;
  /** For a renamed table: its identity before. */
  renamedFrom?: string;
  before: ProbeState;
  after: ProbeState;
  /** Visible rows after - before. */
  delta: number;
  /** The plan changes the table's RLS, policies, grants or owner. */
  planned: boolean;
  /** The change in visible rows is no larger than the change in the table's rows, and in the same direction. */
  explainedByData: boolean;
  /** Accepted in configuration (acceptedHazards code `visibility-changed`). */
  accepted?: boolean;
}

/** What a probe found, in words: `3 rows`, `denied`, `missing`, `error: …`. */
export type ProbeState = string;

export interface ProbeFailure {
  kind: 'unplanned-visibility-change' | 'expectation';
  identity: string;
  table: string;
  message: string;
}

export interface CompareProbesOptions {
  /** Tables whose RLS flags, policies, grants or owner the plan changes. */
  tablesWithPolicyChanges: string[];
  /** Checked on `after`. */
  expectations?: ProbeExpectation[];
  /** Per table, rows after - rows before (from the counts): explains visibility changes of data migrations. */
  rowDeltas?: Record<string, number>;
  /** Tables whose visibility may change without failing (accepted in configuration). */
  acceptedTables?: string[];
  /** Tables the plan renames, new identity → old identity. */
  renames?: Record<string, string>;
}

export interface ProbeComparison {
  /** Every identity × table whose outcome differs. */
  changes: VisibilityChange[];
  failures: ProbeFailure[];
}

/**
 * Compares probes taken before and after an apply. Every difference is a change. A change
 * fails verification when the plan did not change the table's RLS, policies or grants (so
 * something else changed what the identity sees: a function a policy calls, a role, a view…),
 * unless the table's own rows explain it (a data migration: |Δvisible| ≤ |Δrows|, same
 * direction) or it is accepted. Expectations are checked on `after`; an expectation whose
 * identity or table was not probed fails.
 */
export function compareProbes(
  before: ProbeResult[],
  after: ProbeResult[],
  options: CompareProbesOptions,
): ProbeComparison {
  const planned = new Set(options.tablesWithPolicyChanges.map(normalizeTable));
  const accepted = new Set((options.acceptedTables ?? []).map(normalizeTable));
  const renames = new Map(
    Object.entries(options.renames ?? {}).map(([to, from]) => [normalizeTable(to), normalizeTable(from)]),
  );
  const rowDeltas = new Map(
    Object.entries(options.rowDeltas ?? {}).map(([table, delta]) => [normalizeTable(table), delta]),
  );
  const key = (identity: string, table: string) => JSON.stringify([identity, table]);
  const beforeByKey = new Map(before.map((result) => [key(result.identity, result.table), result]));

  const changes: VisibilityChange[] = [];
  const failures: ProbeFailure[] = [];
  for (const result of after) {
    const oldTable = renames.get(result.table) ?? result.table;
    const previous =
      beforeByKey.get(key(result.identity, result.table)) ?? beforeByKey.get(key(result.identity, oldTable));
    if (!previous) continue;
    const b = stateOf(previous);
    const a = stateOf(result);
    if (a === b) continue;
    const delta = result.visibleRows - previous.visibleRows;
    const rowDelta = rowDeltas.get(result.table);
    const explainedByData =
      rowDelta !== undefined &&
      delta !== 0 &&
      Math.sign(delta) === Math.sign(rowDelta) &&
      Math.abs(delta) <= Math.abs(rowDelta) &&
      !result.error &&
      !previous.error;
    const isPlanned = planned.has(result.table) || planned.has(oldTable);
    const isAccepted = accepted.has(result.table) || accepted.has(oldTable);
    changes.push({
      identity: result.identity,
      table: result.table,
      ...(previous.table !== result.table ? { renamedFrom: previous.table } : {}),
      before: b,
      after: a,
      delta,
      planned: isPlanned,
      explainedByData,
      ...(isAccepted ? { accepted: true } : {}),
    });
    if (!isPlanned && !explainedByData && !isAccepted) {
      failures.push({
        kind: 'unplanned-visibility-change',
        identity: result.identity,
        table: result.table,
        message: `${result.identity} saw ${b} of ${result.table} before and ${a} after, but the plan does not change its RLS, policies or grants`,
      });
    }
  }

  for (const expectation of options.expectations ?? []) {
    const table = normalizeTable(expectation.table);
    const result = after.find((r) => r.identity === expectation.identity && r.table === table);
    const problem = violation(expectation, result);
    if (problem) {
      failures.push({
        kind: 'expectation',
        identity: expectation.identity,
        table,
        message: `${expectation.identity} on ${table}: ${problem}`,
      });
    }
  }
  return { changes, failures };
}

function stateOf(result: ProbeResult): ProbeState {
  if (result.denied) return 'denied';
  if (result.missing) return 'missing';
  if (result.error) return `error (${result.error})`;
  return `${result.visibleRows} row${result.visibleRows === 1 ? '' : 's'}`;
}

/** Why the probe result breaks the expectation; undefined when it holds. */
function violation(expectation: ProbeExpectation, result: ProbeResult | undefined): string | undefined {
  if (!result) return 'no probe ran for this identity and table';
  if (result.missing) return 'the table does not exist';
  if (result.error) return `the probe failed: ${result.error}`;
  const seen = result.visibleRows;
  const expectations: string[] = [];
  const { visible, canSee } = expectation;
  if (typeof visible === 'number' && seen !== visible) expectations.push(`exactly ${visible}`);
  if (typeof visible === 'object' && visible !== null) {
    if (visible.min !== undefined && seen < visible.min) expectations.push(`at least ${visible.min}`);
    if (visible.max !== undefined && seen > visible.max) expectations.push(`at most ${visible.max}`);
  }
  if (canSee === true && seen === 0) expectations.push('at least 1');
  if (canSee === false && seen > 0) expectations.push('none');
  if (expectations.length === 0) return undefined;
  return `sees ${stateOf(result)}${result.denied ? ' (0 rows)' : ''}, expected ${expectations.join(' and ')}`;
}
