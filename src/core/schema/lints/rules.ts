import type { FindingAcceptance, FindingLocation } from '../findings/finding.js';

export type LintLevel = 'ERROR' | 'WARN' | 'INFO';

export interface LintFinding {
  /** Supabase's lint name, e.g. `rls_disabled_in_public`. */
  code: string;
  level: LintLevel;
  title: string;
  /** Identity of the object: `public.posts`, `public.posts policy "x"`, `public.fn(uuid)`. */
  object: string;
  /** Specific: names the object and what is wrong. */
  message: string;
  /** What to do. */
  remediation: string;
  /** The pending statement that creates or changes the object (set by the plan). */
  location?: FindingLocation;
  /** Set when a `-- supagate:allow` comment in that statement's file, or the configuration, accepts it. */
  accepted?: FindingAcceptance;
}

export interface LintOptions {
  /** Schemas exposed through the Data API. Default DEFAULT_API_SCHEMAS. */
  apiSchemas?: string[];
}

export interface LintComparison {
  /** In `after` only: what the change brings. */
  introduced: LintFinding[];
  /** In `before` only: what the change fixes (as found in `before`). */
  resolved: LintFinding[];
  /** In both (as found in `after`). */
  existing: LintFinding[];
}

export interface LintRule {
  code: string;
  level: LintLevel;
  title: string;
}

/** Every rule, in the order findings of equal level are reported. */
export const LINT_RULES: readonly LintRule[] = [
  { code: 'rls_disabled_in_public', level: 'ERROR', title: 'RLS disabled in public' },
  { code: 'policy_exists_rls_disabled', level: 'ERROR', title: 'Policy exists, RLS disabled' },
  { code: 'auth_users_exposed', level: 'ERROR', title: 'Exposed auth users' },
  { code: 'security_definer_view', level: 'ERROR', title: 'Security definer view' },
  { code: 'rls_references_user_metadata', level: 'ERROR', title: 'RLS references user metadata' },
  { code: 'sensitive_columns_exposed', level: 'ERROR', title: 'Sensitive columns exposed' },
  { code: 'fkey_to_auth_unique', level: 'ERROR', title: 'Foreign key to auth unique constraint' },
  { code: 'function_search_path_mutable', level: 'WARN', title: 'Function search path mutable' },
  { code: 'auth_rls_initplan', level: 'WARN', title: 'Auth RLS initialization plan' },
  { code: 'multiple_permissive_policies', level: 'WARN', title: 'Multiple permissive policies' },
  { code: 'duplicate_index', level: 'WARN', title: 'Duplicate index' },
  { code: 'extension_in_public', level: 'WARN', title: 'Extension in public' },
  { code: 'extension_versions_outdated', level: 'WARN', title: 'Extension versions outdated' },
  { code: 'materialized_view_in_api', level: 'WARN', title: 'Materialized view in API' },
  { code: 'foreign_table_in_api', level: 'WARN', title: 'Foreign table in API' },
  { code: 'unsupported_reg_types', level: 'WARN', title: 'Unsupported reg types' },
  { code: 'rls_policy_always_true', level: 'WARN', title: 'RLS policy always true' },
  { code: 'public_bucket_allows_listing', level: 'WARN', title: 'Public bucket allows listing' },
  {
    code: 'anon_security_definer_function_executable',
    level: 'WARN',
    title: 'Anonymous users can execute a SECURITY DEFINER function',
  },
  {
    code: 'authenticated_security_definer_function_executable',
    level: 'WARN',
    title: 'Signed-in users can execute a SECURITY DEFINER function',
  },
  { code: 'unindexed_foreign_keys', level: 'INFO', title: 'Unindexed foreign keys' },
  { code: 'no_primary_key', level: 'INFO', title: 'No primary key' },
  { code: 'rls_enabled_no_policy', level: 'INFO', title: 'RLS enabled, no policy' },
];

/** Records one finding of a rule (its level and title come from LINT_RULES). */
export type AddFinding = (code: string, object: string, message: string, remediation: string) => void;
