import type { PlanResult } from '../core/commands/plan.js';
import type { Octokit } from './client.js';
import { github } from './errors.js';
import { type Annotation, type AnnotationLevel, createCheckRun } from './status.js';

/**
 * The plan's findings as a check run, `supagate/findings`, with one annotation per finding at
 * its migration's file:line: what blocks is a failure, a warning a warning, what is accepted or
 * only informative a notice. GitHub takes at most 50 annotations a request: the rest follow in
 * updates of the same run.
 */
export const FINDINGS_CHECK = 'supagate/findings';

export type { Annotation, AnnotationLevel };

const MESSAGE_LIMIT = 64 * 1024 - 1;
const PER_REQUEST = 50;

/** The findings with a location, as annotations; `toRepoPath` maps a migration path to the repository's. */
export function findingAnnotations(result: PlanResult, toRepoPath: (path: string) => string): Annotation[] {
  const annotations: Annotation[] = [];
  for (const hazard of result.hazards) {
    if (!hazard.location) continue;
    const level: AnnotationLevel = hazard.accepted
      ? 'notice'
      : hazard.severity === 'blocking'
        ? 'failure'
        : 'warning';
    annotations.push(
      annotation(toRepoPath(hazard.location.path), hazard.location.line, level, {
        title: `${hazard.code}${hazard.accepted ? ' (accepted)' : hazard.severity === 'blocking' ? ' (blocking)' : ''}`,
        message: `${hazard.message}${hazard.accepted ? `\nAccepted: ${hazard.accepted.reason}` : ''}`,
      }),
    );
  }
  for (const lint of result.lints.introduced) {
    if (!lint.location) continue;
    const level: AnnotationLevel = lint.accepted
      ? 'notice'
      : lint.level === 'ERROR'
        ? 'failure'
        : lint.level === 'WARN'
          ? 'warning'
          : 'notice';
    annotations.push(
      annotation(toRepoPath(lint.location.path), lint.location.line, level, {
        title: `${lint.code}${lint.accepted ? ' (accepted)' : level === 'failure' ? ' (blocking)' : ''}`,
        message: `${lint.message}\n${lint.remediation}${lint.accepted ? `\nAccepted: ${lint.accepted.reason}` : ''}`,
      }),
    );
  }
  return annotations;
}

function annotation(
  path: string,
  line: number,
  level: AnnotationLevel,
  text: { title: string; message: string },
): Annotation {
  const at = Math.max(1, Math.floor(line) || 1);
  return {
    path,
    start_line: at,
    end_line: at,
    annotation_level: level,
    title: text.title.slice(0, 255),
    message: text.message.slice(0, MESSAGE_LIMIT),
  };
}

export interface FindingsCheckOptions {
  owner: string;
  repo: string;
  headSha: string;
  result: PlanResult;
  toRepoPath: (path: string) => string;
  detailsUrl?: string;
}

/** Creates the completed check run with every annotation; returns its id and URL. */
export async function publishFindingsCheck(
  octokit: Octokit,
  options: FindingsCheckOptions,
): Promise<{ id: number; url: string; annotations: number; conclusion: string }> {
  const annotations = findingAnnotations(options.result, options.toRepoPath);
  const failures = annotations.filter((a) => a.annotation_level === 'failure').length;
  const warnings = annotations.filter((a) => a.annotation_level === 'warning').length;
  const conclusion = options.result.blocking ? 'failure' : warnings > 0 ? 'neutral' : 'success';
  const title =
    annotations.length === 0
      ? 'No findings at a migration line'
      : `${failures} blocking, ${warnings} warning(s), ${annotations.length - failures - warnings} notice(s)`;
  const summary = options.result.blocking
    ? `The plan blocks: ${options.result.blockingReasons.length} finding(s) must be fixed or accepted. Each is annotated at its migration's line.`
    : 'Nothing blocks. Warnings are annotated at their migration lines.';
  const output = (batch: Annotation[]) => ({ title, summary, annotations: batch });
  const created = await createCheckRun(octokit, {
    owner: options.owner,
    repo: options.repo,
    headSha: options.headSha,
    name: FINDINGS_CHECK,
    conclusion,
    output: output(annotations.slice(0, PER_REQUEST)),
    ...(options.detailsUrl ? { detailsUrl: options.detailsUrl } : {}),
  });
  for (let start = PER_REQUEST; start < annotations.length; start += PER_REQUEST) {
    const batch = annotations.slice(start, start + PER_REQUEST);
    await github(
      { what: `annotate the ${FINDINGS_CHECK} check run`, permission: 'checks: write', write: true },
      () =>
        octokit.rest.checks.update({
          owner: options.owner,
          repo: options.repo,
          check_run_id: created.id,
          output: output(batch),
        }),
    );
  }
  return { id: created.id, url: created.url, annotations: annotations.length, conclusion };
}
