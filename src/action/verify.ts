import * as core from '@actions/core';
import { verify } from '../core/commands/verify.js';
import { renderVerify } from '../core/report/text.js';
import { configFromInputs, targetLabelFromInputs, textSummary } from './inputs.js';

/**
 * verify, e.g. on a schedule or after a deploy: production's RLS, what each identity sees and
 * the verify scripts, checked as they are now. Reads with read-only-db-url when given.
 */
export async function runVerify(): Promise<void> {
  const result = await verify(configFromInputs({ readOnly: true }));
  core.setOutput('verification', result.ok ? 'passed' : 'failed');
  await textSummary('supagate verify', renderVerify({ ...result, target: targetLabelFromInputs() }));
  if (!result.ok) {
    core.setFailed(`Verification failed: ${result.failures.slice(0, 3).join('; ')}`);
  }
}
