import { editDistance } from '../../edit-distance.js';
import type { BeyondDatabaseCode } from '../../migrations/beyond-database.js';
import { LINT_RULES } from '../lints.js';

/**
 * Every code and category a finding can have, and how a code written by a user (in an allow
 * comment or in supagate.yml) is matched to them: case and `_`/`-` do not matter, so
 * `rls_disabled_in_public` and `drop-column` are written either way.
 */
export type HazardCategory =
  | 'data-loss'
  | 'locking'
  | 'non-transactional'
  | 'security'
  | 'cluster'
  | 'production-data'
  | 'client-compatibility'
  | 'consistency';

export type HazardCode =
  | 'drop-schema'
  | 'drop-table'
  | 'drop-column'
  | 'truncate'
  | 'narrowing-type'
  | 'lossy-type-change'
  | 'delete-without-where'
  | 'update-without-where'
  | 'table-rewrite'
  | 'index-not-concurrent'
  | 'constraint-validation'
  | 'set-not-null'
  | 'non-transactional'
  | 'rls-disabled'
  | 'policy-dropped'
  | 'access-widened'
  | 'grant-to-anon'
  | 'security-definer-search-path'
  | 'unlogged-table'
  | 'view-write-trigger-dropped'
  | 'write-rule-changed'
  | 'event-trigger-change'
  | 'data-check-failed'
  | 'rename-breaks-clients'
  | 'declared-schema-differs'
  | BeyondDatabaseCode;

export const HAZARD_CATEGORY: Readonly<Record<HazardCode, HazardCategory>> = {
  'drop-schema': 'data-loss',
  'drop-table': 'data-loss',
  'drop-column': 'data-loss',
  truncate: 'data-loss',
  'narrowing-type': 'data-loss',
  'lossy-type-change': 'data-loss',
  'delete-without-where': 'data-loss',
  'update-without-where': 'data-loss',
  'table-rewrite': 'locking',
  'index-not-concurrent': 'locking',
  'constraint-validation': 'locking',
  'set-not-null': 'locking',
  'non-transactional': 'non-transactional',
  'rls-disabled': 'security',
  'policy-dropped': 'security',
  'access-widened': 'security',
  'grant-to-anon': 'security',
  'security-definer-search-path': 'security',
  'unlogged-table': 'data-loss',
  'view-write-trigger-dropped': 'data-loss',
  'write-rule-changed': 'data-loss',
  'event-trigger-change': 'cluster',
  'data-check-failed': 'production-data',
  'rename-breaks-clients': 'client-compatibility',
  'declared-schema-differs': 'consistency',
  'database-change': 'cluster',
  'role-change': 'cluster',
  'system-change': 'cluster',
  'other-sessions': 'cluster',
  'remote-connection': 'cluster',
  'server-program': 'cluster',
  'server-file': 'cluster',
};

/** Supabase's advisor puts each lint in one of two categories; these are its performance ones. */
const PERFORMANCE_LINTS = new Set([
  'unindexed_foreign_keys',
  'auth_rls_initplan',
  'no_primary_key',
  'multiple_permissive_policies',
  'duplicate_index',
]);

export type LintCategory = 'security' | 'performance';

export function lintCategory(code: string): LintCategory {
  return PERFORMANCE_LINTS.has(code) ? 'performance' : 'security';
}

/** Codes that verification after apply reads from acceptedHazards (see verify/verify.ts). */
const VERIFICATION_CODES = ['visibility-changed'];

/** `RLS_Disabled_In_Public` → `rls-disabled-in-public`: the form codes are compared in. */
export function normalizeFindingCode(code: string): string {
  return code.trim().toLowerCase().replace(/_/g, '-');
}

/** Normalized form → the spelling findings carry (`rls_disabled_in_public`, `drop-column`). */
const CANONICAL = new Map<string, string>(
  [
    ...Object.keys(HAZARD_CATEGORY),
    ...new Set(Object.values(HAZARD_CATEGORY)),
    ...LINT_RULES.map((rule) => rule.code),
    'performance',
    ...VERIFICATION_CODES,
  ].map((code) => [normalizeFindingCode(code), code]),
);

/** The code or category as findings spell it, or undefined when it names none. */
export function canonicalFindingCode(code: string): string | undefined {
  return CANONICAL.get(normalizeFindingCode(code));
}

/** Known codes and categories close to an unknown one, nearest first (at most five). */
export function nearFindingCodes(code: string): string[] {
  const wanted = normalizeFindingCode(code);
  const threshold = Math.max(2, Math.floor(wanted.length / 4));
  return [...CANONICAL]
    .map(([normalized, canonical]) => ({
      canonical,
      distance: editDistance(wanted, normalized),
      contains: normalized.includes(wanted) || wanted.includes(normalized),
    }))
    .filter((candidate) => candidate.distance <= threshold || candidate.contains)
    .sort((a, b) => a.distance - b.distance || (a.canonical < b.canonical ? -1 : 1))
    .slice(0, 5)
    .map((candidate) => candidate.canonical);
}

/** Whether `written` (a code or a category, as a user wrote it) names this finding. */
export function namesFinding(written: string, code: string, category: string): boolean {
  const wanted = normalizeFindingCode(written);
  return wanted === normalizeFindingCode(code) || wanted === normalizeFindingCode(category);
}
