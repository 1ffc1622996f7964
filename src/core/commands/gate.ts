import type { SupagateConfig } from '../config.js';
import { SupagateError } from '../errors.js';
import { type PlanWithModels, planWithModels } from './plan.js';

/**
 * apply's gate: the plan apply acts on, computed on a shadow before the backup and before
 * anything changes. Its `blocking` is the one decision the PR comment showed: what it blocks
 * is refused (unless accepted in the migration or in supagate.yml), migrations that fail on a
 * copy of production are refused, and verification compares the result against it.
 */
export async function planForApply(config: SupagateConfig): Promise<PlanWithModels> {
  const planned = await planWithModels(config);
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
