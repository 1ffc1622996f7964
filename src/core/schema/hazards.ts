import type { AcceptedHazard } from '../config.js';
import type { Migration } from '../migrations/model.js';
import { Acceptance } from './findings/accept.js';
import { fixFor } from './findings/fixes.js';
import {
  DEFAULT_HAZARD_OPTIONS,
  type Hazard,
  type HazardInput,
  type HazardOptions,
} from './findings/hazard.js';
import { Locator } from './findings/locate.js';
import { objectHazards } from './findings/object-hazards.js';
import { PendingStatements } from './findings/pending.js';
import { statementHazards } from './findings/statement-hazards.js';

/**
 * Hazards: what a reviewer must know before the pending migrations reach production. Each
 * has a code, a category, a severity and, where one statement causes it, that statement's
 * file and line. Object-level hazards come from the schema diff (so a DROP SCHEMA … CASCADE
 * still reports each table it drops, and a recognized rename is no drop) and are located by
 * meaning in the parse trees; statement-level ones (TRUNCATE, DELETE without WHERE, index
 * builds, statements that reach beyond the database…) come from the trees alone.
 */
export { allowCommentsIn } from './findings/accept.js';
export type { HazardCategory, HazardCode } from './findings/codes.js';
export type { HazardFix } from './findings/fixes.js';
export {
  DEFAULT_HAZARD_OPTIONS,
  type Hazard,
  type HazardInput,
  type HazardLocation,
  type HazardOptions,
  type HazardSeverity,
} from './findings/hazard.js';
export type {
  LockEstimate,
  LockedWork,
  LockMode,
} from './findings/lock-estimate.js';
export { classifyTypeChange, type TypeConversion } from './findings/type-change.js';

export function findHazards(input: HazardInput, options: HazardOptions = DEFAULT_HAZARD_OPTIONS): Hazard[] {
  const pending = new PendingStatements(input.pending);
  const hazards = [
    ...objectHazards(input, options, new Locator(pending)),
    ...statementHazards(pending, input, options),
  ];
  const acceptance = new Acceptance(input.pending, options.accepted);
  return dedupe(hazards).map((hazard) => {
    const fix = fixFor(hazard, pending.at(hazard.location)?.statement, input.before, input.after);
    return acceptance.apply(fix ? { ...hazard, fix } : hazard, hazard.category);
  });
}

/** Hazards found apart from findHazards (data checks), accepted the same way: by allow comment or configuration. */
export function withAcceptance(
  hazards: Hazard[],
  pending: Migration[],
  accepted: AcceptedHazard[],
): Hazard[] {
  const acceptance = new Acceptance(pending, accepted);
  return hazards.map((hazard) => acceptance.apply(hazard, hazard.category));
}

function dedupe(hazards: Hazard[]): Hazard[] {
  const seen = new Set<string>();
  return hazards.filter((hazard) => {
    const key = `${hazard.code}|${hazard.object ?? ''}|${hazard.location?.path ?? ''}:${hazard.location?.line ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
