import type { ConfigInput } from '../../src/core/config.js';
import type { TestDatabase } from './db.js';

/**
 * Tests of how apply and rollback run statements, not of the plan's gate (gate.pg.test.ts):
 * their fixtures put tables in public without RLS, which the gate blocks
 * (rls_disabled_in_public). With no API schema nothing is exposed, so nothing of that blocks.
 */
export const GATE_NEUTRAL: ConfigInput = { apiSchemas: [] };

/**
 * A statement that succeeds on the plan's shadow (schema only, no rows) and fails in
 * production with division_by_zero (22012): apply's gate lets it through, as it would a
 * migration whose failure depends on production's data. Call `seed` on production first.
 */
export const FAILS_IN_PRODUCTION = 'select 1 / (1 - (select count(*) from public.production_rows))::int';

/** A statement that sleeps `seconds` in production and not at all on the shadow. */
export function sleepsInProduction(seconds: number): string {
  return `select pg_sleep(${seconds} * (select count(*) from public.production_rows))`;
}

export async function seedProductionRows(db: TestDatabase): Promise<void> {
  await db.query(
    'create table public.production_rows (id int); insert into public.production_rows values (1)',
  );
}
