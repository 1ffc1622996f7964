import type { SupagateConfig } from '../config.js';
import { type Connection, connect, disconnect } from '../db/connect.js';
import { SupagateError } from '../errors.js';
import type { Platform } from '../platform.js';
import type { SchemaDiff } from '../schema/changes.js';
import { diffSchemas } from '../schema/diff.js';
import { introspect } from '../schema/introspect.js';
import { introducedLints, type LintFinding } from '../schema/lints.js';
import { type NotComparedChange, notCompared, notComparedChanges } from '../schema/not-compared.js';
import { accessMatrix, type TableAccess } from '../schema/rls.js';

/**
 * diff: the plan's introspection, diff, lints and access matrix between any two databases
 * (staging vs production, before vs after). Both are only read.
 */
export interface DiffResult {
  command: 'diff';
  from: string;
  to: string;
  diff: SchemaDiff;
  lints: { introduced: LintFinding[]; resolved: LintFinding[]; existingCount: number };
  access: TableAccess[];
  /**
   * The user's objects of kinds the model does not represent, on the "to" side, each kind
   * marked when it differs from the "from" side. Absent in results made before it existed.
   */
  notCompared?: NotComparedChange[];
  /**
   * `plain` when neither database is a Supabase project (no auth.users): schemas named like
   * Supabase's (`extensions`, `auth`…) were then compared as the user's. Absent in older results.
   */
  platform?: Platform;
  /** True when the two schemas are the same. */
  identical: boolean;
  durationMs: number;
}

export async function diffDatabases(
  fromUrl: string | undefined,
  toUrl: string | undefined,
  config: SupagateConfig,
): Promise<DiffResult> {
  if (!fromUrl || !toUrl) {
    throw new SupagateError(
      'CONFIG_INVALID',
      `diff needs two databases: ${fromUrl ? '--to' : '--from'} is missing`,
      {
        hint: 'Pass --from <url> (the "before" side) and --to <url> (the "after" side).',
        details: { setting: fromUrl ? 'to' : 'from' },
      },
    );
  }
  const started = performance.now();
  let from: Connection | undefined;
  let to: Connection | undefined;
  try {
    const options = {
      readOnly: true,
      statementTimeoutMs: 60_000,
      applicationName: 'supagate diff (read-only)',
    };
    [from, to] = await Promise.all([connect(fromUrl, options), connect(toUrl, options)]);
    const platform = await platformOfBoth(from, to);
    // Each side: the model, then (same session, after introspect's transaction) the rest.
    const read = async (connection: Connection) => {
      const model = await introspect(connection.client, { platform });
      return { model, uncompared: await notCompared(connection.client, { platform }) };
    };
    const [fromSide, toSide] = await Promise.all([read(from), read(to)]);
    const before = fromSide.model;
    const after = toSide.model;
    const diff = diffSchemas(before, after);
    const lints = introducedLints(before, after, { apiSchemas: config.apiSchemas });
    return {
      command: 'diff',
      from: from.target.label,
      to: to.target.label,
      diff,
      lints: { introduced: lints.introduced, resolved: lints.resolved, existingCount: lints.existing.length },
      access: accessMatrix(before, after, {
        roles: ['anon', 'authenticated', 'service_role', ...config.extraRoles],
      }),
      notCompared: notComparedChanges(fromSide.uncompared, toSide.uncompared),
      identical: diff.changes.length === 0,
      platform,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await disconnect(from);
    await disconnect(to);
  }
}

/** One decision for both sides, so that a schema is the user's on both or on neither. */
async function platformOfBoth(from: Connection, to: Connection): Promise<Platform> {
  const isSupabase = async (connection: Connection) =>
    (
      await connection.client.query<{ supabase: boolean }>(
        `SELECT to_regclass('auth.users') IS NOT NULL AS supabase`,
      )
    ).rows[0]?.supabase === true;
  const [a, b] = await Promise.all([isSupabase(from), isSupabase(to)]);
  return a || b ? 'supabase' : 'plain';
}
