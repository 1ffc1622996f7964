import { howToAccept } from '../schema/findings/accept.js';
import { type Finding, NO_SINGLE_STATEMENT } from '../schema/findings/finding.js';
import type { PlanResult } from './plan.js';

/**
 * The gate: whether a plan blocks, and why. One decision, made here, that the plan reports and
 * apply enforces: what blocks is every error-level problem, a plan that could not be made, and
 * every finding that blocks and is not accepted (blocking hazards, ERROR lints).
 */
export interface GateDecision {
  blocking: boolean;
  /** One line each: what blocks, where (file:line) and how to accept it when it can be accepted. */
  reasons: string[];
}

export type GateInput = Pick<PlanResult, 'problems' | 'failure' | 'hazards' | 'lints'>;

export function planGate(result: GateInput): GateDecision {
  const reasons = [
    ...result.problems.filter((problem) => problem.severity === 'error').map((problem) => problem.message),
    // A file failure is already among the problems (each file that cannot run is one).
    ...(result.failure && !(result.failure.stage === 'files' && result.problems.length > 0)
      ? [failureReason(result.failure)]
      : []),
    ...result.hazards
      .filter((hazard) => hazard.severity === 'blocking' && !hazard.accepted)
      .map((hazard) => findingReason(hazard, hazard.message)),
    ...result.lints.introduced
      .filter((lint) => lint.level === 'ERROR' && !lint.accepted)
      .map((lint) =>
        findingReason(lint, `${lint.message}${lint.location ? '' : ` (${NO_SINGLE_STATEMENT})`}`),
      ),
  ];
  return { blocking: reasons.length > 0, reasons };
}

const ACCEPT = ' — to accept it, ';

function findingReason(finding: Finding, message: string): string {
  const where = finding.location ? ` at ${finding.location.path}:${finding.location.line}` : '';
  return `${finding.code}${where}: ${message}${ACCEPT}${howToAccept(finding)}`;
}

/** A reason without its how-to-accept tail, for reports that say how to accept once. */
export function reasonWithoutHowToAccept(reason: string): string {
  const at = reason.indexOf(ACCEPT);
  return at < 0 ? reason : reason.slice(0, at);
}

function failureReason(failure: NonNullable<PlanResult['failure']>): string {
  const where =
    failure.file && !failure.message.includes(failure.file)
      ? ` (${failure.file}${failure.line ? `:${failure.line}` : ''})`
      : '';
  return `The pending migrations could not be planned${where}: ${failure.message}`;
}
