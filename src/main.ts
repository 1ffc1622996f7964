import * as core from '@actions/core';
import { runApply } from './action/apply.js';
import { runDrift } from './action/drift.js';
import { actionWording, configFromInputs, targetLabelFromInputs, textSummary } from './action/inputs.js';
import { runPlan } from './action/plan.js';
import { runRepair } from './action/repair.js';
import { runRollback } from './action/rollback.js';
import { runVerify } from './action/verify.js';
import { status } from './core/commands/status.js';
import { renderError, renderStatus } from './core/report/text.js';

/**
 * The Action: `command` picks the glue in src/action/, which moves values between GitHub and
 * a core command. Decisions a CLI user would also need live in core/, not here.
 */
const COMMANDS: Record<string, () => Promise<void>> = {
  plan: runPlan,
  apply: runApply,
  rollback: runRollback,
  drift: runDrift,
  verify: runVerify,
  status: runStatus,
  repair: runRepair,
};

export async function run(): Promise<void> {
  try {
    const command = core.getInput('command', { required: true }).trim();
    const selected = COMMANDS[command];
    if (!selected) {
      core.setFailed(`Unknown command "${command}". Use one of: ${Object.keys(COMMANDS).join(', ')}.`);
      return;
    }
    await selected();
  } catch (error) {
    core.setFailed(actionWording(renderError(error)));
  }
}

async function runStatus(): Promise<void> {
  const result = await status(configFromInputs());
  core.setOutput('pending_count', result.pending.length);
  core.setOutput('pending_versions', result.pending.join(','));
  await textSummary('supagate status', renderStatus({ ...result, target: targetLabelFromInputs() }));
  if (!result.ok) core.setFailed('Migration history and files disagree; see the job summary.');
}
