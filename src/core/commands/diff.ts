import type { SupagateConfig } from '../config.js';
import { type Connection, connect, disconnect } from '../db/connect.js';
import { SupagateError } from '../errors.js';
import type { SchemaDiff } from '../schema/changes.js';
import { diffSchemas } from '../schema/diff.js';
import { introspect } from '../schema/introspect.js';
import { introducedLints, type LintFinding } from '../schema/lints.js';
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
    const [before, after] = await Promise.all([introspect(from.client), introspect(to.client)]);
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
      identical: diff.changes.length === 0,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await disconnect(from);
    await disconnect(to);
  }
}
