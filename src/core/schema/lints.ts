import { DEFAULT_API_SCHEMAS } from '../platform.js';
import { lintExtensions } from './lints/extensions.js';
import { lintForeignTables } from './lints/foreign-tables.js';
import { lintFunctions } from './lints/functions.js';
import { lintPolicies } from './lints/policies.js';
import {
  type AddFinding,
  LINT_RULES,
  type LintComparison,
  type LintFinding,
  type LintLevel,
  type LintOptions,
} from './lints/rules.js';
import { lintStorage } from './lints/storage.js';
import { lintTables } from './lints/tables.js';
import { compare, type LintContext } from './lints/util.js';
import { lintViews } from './lints/views.js';
import type { SchemaModel } from './model.js';

export { unwrappedCalls } from './lints/policies.js';
/**
 * Security and performance lints: Supabase's database advisor rules (the `splinter` lints),
 * re-implemented by meaning on the SchemaModel, so a plan can say which ones the pending
 * migrations introduce (`introducedLints`) rather than list everything production already has.
 *
 * Scope: objects in schemas Supabase manages (MANAGED_SCHEMAS) and managed tables (`managed:
 * true`, e.g. storage.objects) are not linted, except by the rules about policies, which
 * migrations do write on managed tables: rls_references_user_metadata, auth_rls_initplan,
 * rls_policy_always_true and multiple_permissive_policies; and public_bucket_allows_listing,
 * about storage buckets and the policies on storage.objects.
 *
 * "API schemas" are the schemas PostgREST exposes (options.apiSchemas, default
 * DEFAULT_API_SCHEMAS). "anon/authenticated can X" means the privilege is granted to that role
 * or to PUBLIC (role membership is not modeled).
 *
 * The rules live in ./lints/, one module per kind of object: tables.ts (RLS, keys, indexes,
 * reg* columns), policies.ts, views.ts, functions.ts, extensions.ts, foreign-tables.ts,
 * storage.ts (buckets); rules.ts lists them (LINT_RULES) with the finding types.
 *
 * Rules whose data the model does not hold yet run once it does: extension_versions_outdated
 * reads `Extension.defaultVersion`, foreign_table_in_api `SchemaModel.foreignTables` (see
 * extensions.ts and foreign-tables.ts).
 */
export type { LintComparison, LintFinding, LintLevel, LintOptions, LintRule } from './lints/rules.js';
export { LINT_RULES } from './lints/rules.js';
export { isSensitiveColumnName, SENSITIVE_COLUMN_WORDS } from './lints/sensitive.js';

const RULES = new Map(LINT_RULES.map((rule) => [rule.code, rule]));
const LEVEL_ORDER: Record<LintLevel, number> = { ERROR: 0, WARN: 1, INFO: 2 };
const RULE_ORDER = new Map(LINT_RULES.map((rule, i) => [rule.code, i]));

export function lintSchema(model: SchemaModel, options: LintOptions = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const add: AddFinding = (code, object, message, remediation) => {
    const rule = RULES.get(code);
    if (!rule) throw new Error(`unknown lint ${code}`);
    findings.push({ code, level: rule.level, title: rule.title, object, message, remediation });
  };
  const context: LintContext = { model, api: new Set(options.apiSchemas ?? DEFAULT_API_SCHEMAS), add };
  lintTables(context);
  lintPolicies(context);
  lintViews(context);
  lintForeignTables(context);
  lintFunctions(context);
  lintExtensions(context);
  lintStorage(context);
  return sortFindings(findings);
}

/** Compares the lints of two models, keyed by code and object. Each list in lintSchema's order. */
export function introducedLints(
  before: SchemaModel,
  after: SchemaModel,
  options: LintOptions = {},
): LintComparison {
  const beforeLints = lintSchema(before, options);
  const afterLints = lintSchema(after, options);
  const key = (f: LintFinding) => `${f.code}\u0000${f.object}`;
  const beforeKeys = new Set(beforeLints.map(key));
  const afterKeys = new Set(afterLints.map(key));
  return {
    introduced: afterLints.filter((f) => !beforeKeys.has(key(f))),
    resolved: beforeLints.filter((f) => !afterKeys.has(key(f))),
    existing: afterLints.filter((f) => beforeKeys.has(key(f))),
  };
}

function sortFindings(findings: LintFinding[]): LintFinding[] {
  return findings.sort(
    (a, b) =>
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      (RULE_ORDER.get(a.code) ?? 0) - (RULE_ORDER.get(b.code) ?? 0) ||
      compare(a.object, b.object),
  );
}
