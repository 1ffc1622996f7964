import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { createArtifactUploader } from '../github/artifacts.js';

/**
 * The full report as a file (the `report_path` output) and, inside a GitHub Actions job, as an
 * artifact of the run: the comment and the job summary are trimmed to GitHub's limits, this
 * is not. An artifact that cannot be uploaded is a warning, never a failed plan.
 */
export async function publishReportFile(name: string, markdown: string): Promise<string> {
  const folder = join(process.env.RUNNER_TEMP || tmpdir(), 'supagate');
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${name}.md`);
  await writeFile(path, markdown);
  core.setOutput('report_path', path);
  if (process.env.ACTIONS_RUNTIME_TOKEN && process.env.ACTIONS_RESULTS_URL) {
    const attempt = process.env.GITHUB_RUN_ATTEMPT ?? '1';
    try {
      const uploaded = await createArtifactUploader()(`${name}-attempt-${attempt}`, path);
      core.info(`Full report: ${uploaded.location}`);
    } catch (error) {
      core.warning(`The full report was not uploaded as an artifact: ${(error as Error).message}`);
    }
  }
  return path;
}
