import { createHash } from 'node:crypto';
import type { SupagateConfig } from '../config.js';
import { SupagateError } from '../errors.js';
import type { MigrationStatus } from '../migrations/pending.js';
import { type PlanResult, type PlanWithModels, planWithModels } from './plan.js';

/**
 * apply's gate: the plan apply acts on, computed on a shadow before the backup and before
 * anything changes. Its `blocking` is the one decision the PR comment showed: what it blocks
 * is refused (unless accepted in the migration or in supagate.yml), migrations that fail on a
 * copy of production are refused, and verification compares the result against it.
 */
export async function planForApply(config: SupagateConfig): Promise<PlanWithModels> {
  // The declared schema files say nothing of what applying does: apply does not build them.
  const planned = await planWithModels({ ...config, declaredSchema: 'off' });
  const failure = planned.result.failure;
  if (failure) {
    throw new SupagateError(
      'PLAN_FAILED',
      `The migrations fail on a copy of production: ${failure.message}`,
      {
        hint: failure.hint ?? 'Fix the migration; nothing was applied.',
        details: {
          ...(failure.file ? { file: failure.file } : {}),
          ...(failure.line ? { line: failure.line } : {}),
        },
      },
    );
  }
  return planned;
}

const NOT_EFFECTS: ReadonlySet<string> = new Set(['declared-schema-differs']);

/**
 * The pull request's own effect: which migrations run (version and checksum), what they change
 * and what they are found to do (hazards and lints with their file:line, severity and whether
 * accepted). Unlike the plan hash it does not cover the rest of production: when other pull
 * requests' migrations were applied since the plan was approved, an equal effect digest means
 * the approved change is still exactly what will run and what it does.
 */
export function effectDigestOf(
  result: Pick<PlanResult, 'pending' | 'diff' | 'hazards' | 'lints' | 'blocking'>,
): string {
  const where = (location: { path: string; line: number } | undefined) =>
    location ? `${location.path}:${location.line}` : null;
  const effect = {
    pending: result.pending.map((m) => `${m.version}:${m.checksum}`),
    changes: withoutStats(result.diff.changes),
    hazards: result.hazards
      // Whether supabase/schemas says the same is no effect of the migrations (apply does not check it).
      .filter((h) => !NOT_EFFECTS.has(h.code))
      .map((h) => ({
        code: h.code,
        severity: h.severity,
        object: h.object ?? null,
        at: where(h.location),
        accepted: Boolean(h.accepted),
      }))
      .map(stable)
      .sort(),
    lints: result.lints.introduced
      .map((l) => ({
        code: l.code,
        level: l.level,
        object: l.object,
        at: where(l.location),
        accepted: Boolean(l.accepted),
      }))
      .map(stable)
      .sort(),
    blocking: result.blocking,
  };
  return createHash('sha256').update(stable(effect)).digest('hex');
}

/** sha256 over the applied versions of the migration history, in numeric order. */
export function historyDigestOf(appliedVersions: string[]): string {
  const sorted = [...new Set(appliedVersions)].sort(
    (a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0),
  );
  return createHash('sha256').update(sorted.join('\n')).digest('hex');
}

/** The applied versions of a status, newest application last (supagate's own records by time). */
export function appliedVersionsOf(
  status: Pick<MigrationStatus, 'entries'>,
): { version: string; appliedAt?: string }[] {
  return status.entries
    .filter(
      (entry) => entry.state === 'applied' || entry.state === 'edited' || entry.state === 'missing-local',
    )
    .map((entry) => ({
      version: entry.version,
      ...(entry.applied?.appliedAt ? { appliedAt: entry.applied.appliedAt } : {}),
    }));
}

/**
 * The versions applied to production since a plan recorded `recordedHistory`: the latest
 * applications supagate recorded, newest first, removed one by one until the rest is the
 * recorded history. Undefined when no such suffix exists (the history changed otherwise).
 */
export function appliedSince(
  applied: { version: string; appliedAt?: string }[],
  recordedHistory: string,
  limit = 100,
): string[] | undefined {
  const all = applied.map((a) => a.version);
  if (historyDigestOf(all) === recordedHistory) return [];
  const byTime = applied
    .filter((a) => a.appliedAt !== undefined)
    .sort(
      (a, b) =>
        (a.appliedAt as string).localeCompare(b.appliedAt as string) ||
        a.version.length - b.version.length ||
        (a.version < b.version ? -1 : a.version > b.version ? 1 : 0),
    );
  const removed = new Set<string>();
  for (let k = 1; k <= Math.min(limit, byTime.length); k += 1) {
    removed.add((byTime[byTime.length - k] as { version: string }).version);
    if (historyDigestOf(all.filter((v) => !removed.has(v))) === recordedHistory)
      return [...removed].reverse();
  }
  return undefined;
}

function withoutStats(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutStats);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => key !== 'stats')
        .map(([key, item]) => [key, withoutStats(item)]),
    );
  }
  return value;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stable(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
