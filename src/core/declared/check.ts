import type { ShadowFailure } from '../commands/shadow-run.js';
import type { AcceptedHazard } from '../config.js';
import type { SupagateError } from '../errors.js';
import type { Migration } from '../migrations/model.js';
import type { ObjectChange } from '../schema/changes.js';
import { diffSchemas } from '../schema/diff.js';
import { HAZARD_CATEGORY } from '../schema/findings/codes.js';
import type { Hazard } from '../schema/findings/hazard.js';
import { withAcceptance } from '../schema/hazards.js';
import type { SchemaModel } from '../schema/model.js';
import type { DeclaredBuild } from './build.js';
import type { DeclaredSchemaFiles } from './discover.js';

/**
 * Does the declared schema (supabase/schemas) say what the migrations do? The plan's model of
 * production after the pending migrations is compared with the schema files built on a fresh
 * Supabase shadow, with the plan's diff. A difference is a migration not generated (or edited
 * after), or a schema file not updated.
 */
export type DeclaredSchemaStatus = 'matches' | 'differs' | 'failed';

export interface DeclaredSchemaCheck {
  status: DeclaredSchemaStatus;
  /** Where the list of files comes from: config.toml's schema_paths, or the default folder. */
  source: DeclaredSchemaFiles['source'];
  /** The schema files, in the order they ran. */
  files: string[];
  /** From what the migrations produce to what the schema files declare. */
  changes: ObjectChange[];
  /** Why it could not be compared: a file that does not parse or fails, a shadow that could not be made. */
  failure?: ShadowFailure;
  /** The declared shadow's notes (statements not run there, stand-ins). */
  warnings: string[];
  durationMs: number;
}

export function compareDeclared(
  files: DeclaredSchemaFiles,
  afterMigrations: SchemaModel,
  build: DeclaredBuild,
  durationMs: number,
): DeclaredSchemaCheck {
  const base = {
    source: files.source,
    files: files.files.map((file) => file.path),
    warnings: build.shadow.warnings,
    durationMs,
  };
  if ('failure' in build) return { ...base, status: 'failed', changes: [], failure: build.failure };
  const changes = diffSchemas(build.production ?? afterMigrations, build.model).changes;
  return { ...base, status: changes.length > 0 ? 'differs' : 'matches', changes };
}

/** A check whose discovery failed (a pattern that names nothing, a malformed config.toml). */
export function declaredDiscoveryFailure(error: SupagateError): DeclaredSchemaCheck {
  const { file, line } = error.details;
  return {
    status: 'failed',
    source: 'schema_paths',
    files: [],
    changes: [],
    failure: {
      stage: 'files',
      kind: 'migration',
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(typeof file === 'string' ? { file } : {}),
      ...(typeof line === 'number' ? { line } : {}),
    },
    warnings: [],
    durationMs: 0,
  };
}

/** One warning per object the schema files declare otherwise, accepted as any hazard is. */
export function declaredSchemaHazards(
  check: DeclaredSchemaCheck,
  pending: Migration[],
  accepted: AcceptedHazard[],
): Hazard[] {
  const hazards = check.changes.map(
    (change): Hazard => ({
      code: 'declared-schema-differs',
      category: HAZARD_CATEGORY['declared-schema-differs'],
      severity: 'warning',
      message: `The schema files ${declaredWords(change)}: generate the migration (supabase db diff) or update the schema files`,
      object: change.id,
    }),
  );
  return withAcceptance(hazards, pending, accepted);
}

function declaredWords(change: ObjectChange): string {
  const what = `${change.kind} ${change.id}`;
  switch (change.action) {
    case 'added':
      return `declare ${what}, which the migrations do not create`;
    case 'removed':
      return `do not declare ${what}, which the migrations create`;
    default: {
      const members = change.members.map(
        (member) => `${member.kind} ${member.name} ${memberAction(member.action)}`,
      );
      const attributes = change.attributes.map((attribute) => attribute.attribute);
      const parts = [...members, ...(attributes.length > 0 ? [`${attributes.join(', ')} differ`] : [])];
      return `declare ${what} otherwise than the migrations make it${parts.length > 0 ? ` (${parts.slice(0, 4).join('; ')}${parts.length > 4 ? '; …' : ''})` : ''}`;
    }
  }
}

function memberAction(action: ObjectChange['action']): string {
  return { added: 'only declared', removed: 'not declared', changed: 'differs', renamed: 'renamed' }[action];
}
