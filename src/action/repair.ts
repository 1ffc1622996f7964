import * as core from '@actions/core';
import { repair } from '../core/commands/repair.js';
import { renderRepair } from '../core/report/text.js';
import {
  actionWording,
  configFromInputs,
  optionalInput,
  targetLabelFromInputs,
  textSummary,
} from './inputs.js';

/**
 * repair, dispatched by hand (workflow_dispatch) where only the workflow holds the database's
 * URL: without `confirm`, the job summary shows the proposed history change and its
 * fingerprint; with `confirm` set to that fingerprint, it is applied (core/commands/repair.ts).
 */
export async function runRepair(): Promise<void> {
  const confirm = optionalInput('confirm');
  const result = await repair(configFromInputs(), confirm ? { confirm } : {});
  core.setOutput('repair_status', result.status);
  core.setOutput('fingerprint', result.fingerprint);
  await textSummary(
    'supagate repair',
    actionWording(renderRepair({ ...result, target: targetLabelFromInputs() })),
  );
  if (result.status === 'proposed')
    core.notice(
      `Proposed ${result.actions.length} history change(s); run again with confirm: ${result.fingerprint} to apply them.`,
    );
  const errors = result.problems.filter((problem) => problem.severity === 'error');
  if (result.status !== 'proposed' && errors.length > 0)
    core.setFailed(`History and files still disagree: ${errors[0]?.message}`);
}
