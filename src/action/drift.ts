import * as core from '@actions/core';
import { drift } from '../core/commands/drift.js';
import { COMMENT_LIMIT, renderDriftMarkdown } from '../core/report/markdown.js';
import { createOctokit } from '../github/client.js';
import { readRunContext } from '../github/context.js';
import { syncDriftIssue } from '../github/drift-issue.js';
import { writeJobSummary } from '../github/summary.js';
import {
  booleanInput,
  configFromInputs,
  optionalInput,
  targetIdFromInputs,
  targetLabelFromInputs,
} from './inputs.js';
import { publishReportFile } from './report-file.js';

/**
 * drift on a schedule: production against what its applied migrations produce. One issue per
 * target is opened or updated while they differ and closed once they agree (`drift-issue`);
 * `fail-on-drift` fails the run instead of, or as well as, that. A drift check that cannot run
 * (a migration that no longer replays) always fails the run.
 */
export async function runDrift(): Promise<void> {
  const run = readRunContext();
  const config = configFromInputs({ readOnly: true });
  const target = targetIdFromInputs();
  const result = { ...(await drift(config)), target: targetLabelFromInputs() };
  const drifted = result.status === 'drifted';
  core.setOutput('drift', String(drifted));
  const full = renderDriftMarkdown(result, { limit: Number.POSITIVE_INFINITY });
  await writeJobSummary(full);
  await publishReportFile(`supagate-drift-${target}`, full);
  if (result.status === 'failed') {
    core.setFailed(`The drift check could not run: ${result.failure?.message ?? 'see the job summary'}`);
    return;
  }
  if (booleanInput('drift-issue', true)) {
    const octokit = createOctokit(core.getInput('github-token'), { baseUrl: run.apiUrl });
    const author = optionalInput('comment-author');
    const issue = await syncDriftIssue(octokit, {
      owner: run.repository.owner,
      repo: run.repository.repo,
      target,
      drift: drifted,
      // Room for the marker and the footer syncDriftIssue adds.
      body: renderDriftMarkdown(result, { limit: COMMENT_LIMIT - 2_000, fullReportUrl: run.runUrl }),
      runUrl: run.runUrl,
      ...(author ? { author } : {}),
    });
    core.setOutput('issue_url', drifted ? (issue.url ?? '') : '');
    if (issue.action !== 'none') core.info(`Drift issue ${issue.action}: ${issue.url ?? ''}`);
  }
  if (drifted && booleanInput('fail-on-drift', false)) {
    const what = [
      ...(result.diff.changes.length > 0 ? [`${result.diff.changes.length} object(s) differ`] : []),
      ...(result.edited.length > 0 ? [`applied migrations edited since: ${result.edited.join(', ')}`] : []),
      ...(result.missingLocal.length > 0
        ? [`applied with no local file: ${result.missingLocal.join(', ')}`]
        : []),
    ];
    core.setFailed(`Production drifted from its migrations (${what.join('; ')}); see the job summary.`);
  }
}
