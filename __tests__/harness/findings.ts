import type { AcceptedHazard } from '../../src/core/config.js';
import type { Migration } from '../../src/core/migrations/model.js';
import { parseMigrationSql } from '../../src/core/migrations/statements.js';
import { diffSchemas } from '../../src/core/schema/diff.js';
import { locateAndAcceptLints } from '../../src/core/schema/findings/lint-locations.js';
import { findHazards, type Hazard } from '../../src/core/schema/hazards.js';
import { introducedLints, type LintFinding } from '../../src/core/schema/lints.js';
import type { SchemaModel } from '../../src/core/schema/model.js';
import { renameHints } from '../../src/core/schema/renames.js';
import { accessMatrix } from '../../src/core/schema/rls.js';

/**
 * Findings without a database: pending migrations parsed from text, before/after models built
 * by hand (model-factory.ts), diffed, access-checked and linted as the plan does.
 */

/** `{ '2_add': sql }` → pending migrations `supabase/migrations/2_add.sql`, in the order given. */
export async function pendingMigrations(files: Record<string, string>): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const [name, sql] of Object.entries(files)) {
    const path = `supabase/migrations/${name}.sql`;
    const parsed = await parseMigrationSql(sql, path);
    migrations.push({
      version: name.split('_')[0] as string,
      name: name.split('_').slice(1).join('_'),
      path,
      absolutePath: `/project/${path}`,
      sql,
      checksum: name,
      ...parsed,
      transactional: parsed.statements.every((s) => !s.nonTransactional),
    });
  }
  return migrations;
}

export interface FindingOptions {
  largeTableRows?: number;
  accepted?: AcceptedHazard[];
}

export function findingsOf(
  pending: Migration[],
  before: SchemaModel,
  after: SchemaModel,
  options: FindingOptions = {},
): { hazards: Hazard[]; lints: LintFinding[] } {
  const diff = diffSchemas(before, after, renameHints(pending.flatMap((m) => m.statements)));
  const access = accessMatrix(before, after, { roles: ['anon', 'authenticated', 'service_role'] });
  const accepted = options.accepted ?? [];
  const hazards = findHazards(
    { pending, before, after, diff, access },
    { largeTableRows: options.largeTableRows ?? 50, accepted },
  );
  const lints = locateAndAcceptLints(introducedLints(before, after).introduced, pending, after, accepted);
  return { hazards, lints };
}

/** `path:line` of a finding, or `unlocated`. */
export function whereIs(finding: { location?: { path: string; line: number } }): string {
  return finding.location ? `${finding.location.path}:${finding.location.line}` : 'unlocated';
}
