import pg from 'pg';
import type { PlanResult } from '../../src/core/commands/plan.js';
import type { DataCheck } from '../../src/core/datachecks/index.js';

/** The plan's data check of `object` (`public.profiles.email`); throws, listing them, when there is none. */
export function checkOf(result: PlanResult, object: string): DataCheck {
  const check = result.dataChecks?.find((c) => c.object === object);
  if (!check) throw new Error(`no data check of ${object}: ${JSON.stringify(result.dataChecks)}`);
  return check;
}

/** `path:line` of each data check that blocks (not accepted). */
export function blockingAt(result: PlanResult): string[] {
  return result.hazards
    .filter((h) => h.code === 'data-check-failed' && h.severity === 'blocking' && !h.accepted)
    .map((h) => `${h.location?.path}:${h.location?.line}`);
}

/** Runs a check's list query on the database, as a reviewer would. */
export async function rowsOf(url: string, query: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(query)).rows;
  } finally {
    await client.end();
  }
}
