import type { FindingAcceptance, FindingLocation } from './findings/finding.js';
import {
  DEFAULT_API_SCHEMAS,
  type Grant,
  type Index,
  MANAGED_SCHEMAS,
  type Policy,
  type PolicyCommand,
  type Routine,
  type SchemaModel,
  type Table,
} from './model.js';
import { isLiteralTrue, scanExpression } from './rls.js';

/**
 * Security and performance lints: Supabase's database advisor rules (the `splinter` lints),
 * re-implemented by meaning on the SchemaModel, so a plan can say which ones the pending
 * migrations introduce (`introducedLints`) rather than list everything production already has.
 *
 * Scope: objects in schemas Supabase manages (MANAGED_SCHEMAS) and managed tables (`managed:
 * true`, e.g. storage.objects) are not linted, except by the rules about policies, which
 * migrations do write on managed tables: rls_references_user_metadata, auth_rls_initplan,
 * rls_policy_always_true and multiple_permissive_policies.
 *
 * "API schemas" are the schemas PostgREST exposes (options.apiSchemas, default
 * DEFAULT_API_SCHEMAS). "anon/authenticated can X" means the privilege is granted to that role
 * or to PUBLIC (role membership is not modeled).
 */
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
  { code: 'materialized_view_in_api', level: 'WARN', title: 'Materialized view in API' },
  { code: 'foreign_table_in_api', level: 'WARN', title: 'Foreign table in API' },
  { code: 'rls_policy_always_true', level: 'WARN', title: 'RLS policy always true' },
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

const RULES = new Map(LINT_RULES.map((rule) => [rule.code, rule]));
const LEVEL_ORDER: Record<LintLevel, number> = { ERROR: 0, WARN: 1, INFO: 2 };
const RULE_ORDER = new Map(LINT_RULES.map((rule, i) => [rule.code, i]));

/** The API roles whose reach the exposure lints are about. */
const API_ROLES = ['anon', 'authenticated'] as const;

/**
 * The roles multiple_permissive_policies considers: these four, as Supabase does, plus the roles
 * named explicitly in the table's permissive policies; minus roles that bypass RLS (policies
 * never apply to them) and internal ones (pg_*, supabase*admin). A PUBLIC policy applies to
 * each of them.
 */
const PUBLIC_EXPANSION = ['anon', 'authenticated', 'authenticator', 'dashboard_user'];
const RLS_EXEMPT_ROLES = ['service_role', 'postgres', 'supabase_admin'];

export function lintSchema(model: SchemaModel, options: LintOptions = {}): LintFinding[] {
  const api = new Set(options.apiSchemas ?? DEFAULT_API_SCHEMAS);
  const findings: LintFinding[] = [];
  const add = (code: string, object: string, message: string, remediation: string) => {
    const rule = RULES.get(code);
    if (!rule) throw new Error(`unknown lint ${code}`);
    findings.push({ code, level: rule.level, title: rule.title, object, message, remediation });
  };

  const tables = Object.entries(model.tables).sort(([a], [b]) => compare(a, b));
  const userTables = tables.filter(([, t]) => !t.managed && !isManagedSchema(t.schema));
  const views = Object.entries(model.views)
    .filter(([, v]) => !isManagedSchema(v.schema))
    .sort(([a], [b]) => compare(a, b));
  const functions = Object.entries(model.functions)
    .filter(([, f]) => !isManagedSchema(f.schema))
    .sort(([a], [b]) => compare(a, b));

  for (const [id, table] of userTables) {
    const inApi = api.has(table.schema);
    const policyCount = Object.keys(table.policies).length;

    // rls_disabled_in_public: an ordinary or partitioned table in an API schema with RLS not
    // enabled, whatever its grants (as Supabase: the schema being exposed is enough; grants are
    // one REVOKE/GRANT away). Supabase checks relkind 'r' (which includes partitions); we also
    // flag partitioned parents, which PostgREST exposes the same way.
    if (inApi && !table.rlsEnabled) {
      add(
        'rls_disabled_in_public',
        id,
        `Table ${id} is in the API schema ${table.schema}, but row level security is not enabled: every role with a grant on it reads and writes all of its rows through the Data API`,
        `ALTER TABLE ${id} ENABLE ROW LEVEL SECURITY, then add policies for the access anon and authenticated need (or move the table to a schema that is not exposed)`,
      );
    }

    // policy_exists_rls_disabled: a table (in any user schema) that has at least one policy
    // while RLS is not enabled, so the policies are not enforced.
    if (policyCount > 0 && !table.rlsEnabled) {
      add(
        'policy_exists_rls_disabled',
        id,
        `Table ${id} has ${plural(policyCount, 'policy', 'policies')} (${Object.keys(table.policies).sort().map(quoted).join(', ')}) but row level security is not enabled, so none of them is enforced`,
        `ALTER TABLE ${id} ENABLE ROW LEVEL SECURITY`,
      );
    }

    // sensitive_columns_exposed: a table in an API schema with RLS not enabled that has a
    // column whose name looks sensitive (see sensitiveColumn for the word list and matching).
    if (inApi && !table.rlsEnabled) {
      const sensitive = table.columns.map((c) => c.name).filter(isSensitiveColumnName);
      if (sensitive.length > 0) {
        add(
          'sensitive_columns_exposed',
          id,
          `Table ${id} is exposed through the Data API without row level security and has sensitive-looking ${plural(sensitive.length, 'column', 'columns')}: ${sensitive.join(', ')}`,
          `Enable row level security on ${id} with policies that keep these rows private, or move the sensitive columns to a table that is not exposed; revoke anon/authenticated privileges on the columns if they must never be read`,
        );
      }
    }

    // fkey_to_auth_unique: a foreign key to a table in the auth schema whose referenced columns
    // are not that table's primary key, i.e. it references a unique constraint (auth.users
    // email/phone…), which Supabase Auth may change or drop. The primary key is taken from the
    // model when it holds the auth table, else assumed to be (id), the primary key of every
    // table Supabase Auth defines.
    for (const constraint of sortedValues(table.constraints)) {
      const ref = constraint.references;
      if (constraint.type !== 'foreign key' || !ref || schemaOf(ref.table) !== 'auth') continue;
      const referenced = model.tables[ref.table];
      const key = referenced && Object.values(referenced.constraints).find((c) => c.type === 'primary key');
      // A managed table read for its triggers (auth.users) carries no constraints: assume (id).
      const primary = key ? key.columns : referenced && !referenced.managed ? [] : ['id'];
      if (sameSet(ref.columns, primary)) continue;
      add(
        'fkey_to_auth_unique',
        `${id} constraint ${quoted(constraint.name)}`,
        `Foreign key ${quoted(constraint.name)} on ${id} references ${ref.table}(${ref.columns.join(', ')}), a unique key of an auth table that is not its primary key; Supabase Auth may change or drop that constraint`,
        `Reference ${ref.table} by its primary key (${primary.join(', ') || 'id'}) instead`,
      );
    }

    // unindexed_foreign_keys: a foreign key whose columns are not covered by a valid,
    // non-partial index whose leading key columns are exactly those columns (in any order).
    for (const constraint of sortedValues(table.constraints)) {
      if (constraint.type !== 'foreign key') continue;
      const covered = Object.values(table.indexes).some((index) => coversColumns(index, constraint.columns));
      if (covered) continue;
      add(
        'unindexed_foreign_keys',
        `${id} constraint ${quoted(constraint.name)}`,
        `Foreign key ${quoted(constraint.name)} on ${id} (${constraint.columns.join(', ')}) has no index starting with its columns: joins and deletes on the referenced table scan ${id}`,
        `CREATE INDEX ON ${id} (${constraint.columns.join(', ')})`,
      );
    }

    // duplicate_index: two or more indexes (tables here, materialized views below) with the
    // same pg_get_indexdef() once the index name is taken out; one finding per group.
    duplicateIndexes(id, table.indexes, add);

    // no_primary_key: an ordinary or partitioned table without a primary key constraint.
    if (!Object.values(table.constraints).some((c) => c.type === 'primary key')) {
      add(
        'no_primary_key',
        id,
        `Table ${id} has no primary key`,
        `Add a primary key to ${id} (ALTER TABLE ${id} ADD PRIMARY KEY (…)); rows without one cannot be identified reliably (replication, updates by key)`,
      );
    }

    // rls_enabled_no_policy: RLS enabled and no policy at all, so every role that does not
    // bypass RLS sees no rows.
    if (table.rlsEnabled && policyCount === 0) {
      add(
        'rls_enabled_no_policy',
        id,
        `Table ${id} has row level security enabled but no policy: only roles that bypass RLS can read or write it`,
        `Add policies for the access anon and authenticated need, or leave it this way on purpose (service_role only)`,
      );
    }
  }

  // Policy rules: all tables, managed ones included.
  for (const [id, table] of tables) {
    for (const policy of sortedValues(table.policies)) {
      const object = `${id} policy ${quoted(policy.name)}`;

      // rls_references_user_metadata: USING or WITH CHECK reads the user metadata, which
      // signed-in users can edit themselves: the `user_metadata` claim of the JWT
      // (auth.jwt() or the request.jwt.claims setting, mentioning `user_metadata`), or
      // auth.users.raw_user_meta_data.
      const metadata = [policy.using, policy.withCheck].some(referencesUserMetadata);
      if (metadata) {
        add(
          'rls_references_user_metadata',
          object,
          `Policy ${quoted(policy.name)} on ${id} decides access from user metadata (user_metadata / raw_user_meta_data), which every user can change for themselves`,
          `Base the policy on app_metadata (auth.jwt() -> 'app_metadata', only settable by the server) or on a table the user cannot write`,
        );
      }

      // auth_rls_initplan: USING or WITH CHECK calls auth.uid(), auth.jwt(), auth.role(),
      // auth.email() or current_setting() somewhere other than the select list of a scalar
      // sub-SELECT without FROM. PostgreSQL deparses `(select auth.uid())` as
      // `( SELECT auth.uid() AS uid)`; a call outside such a subquery (including one inside a
      // subquery with FROM) is evaluated once per row instead of once per statement.
      const calls = unwrappedRlsCalls(policy);
      if (calls.length > 0) {
        add(
          'auth_rls_initplan',
          object,
          `Policy ${quoted(policy.name)} on ${id} calls ${calls.join(', ')} directly, so it is re-evaluated for each row`,
          `Wrap each call in a scalar subquery, e.g. (select auth.uid()), so PostgreSQL evaluates it once per statement`,
        );
      }

      // rls_policy_always_true: a permissive INSERT, UPDATE, DELETE or ALL policy for anon,
      // authenticated or PUBLIC whose USING (UPDATE, DELETE, ALL) or WITH CHECK (INSERT,
      // UPDATE, ALL; defaulting to USING when absent) is literally `true`: it lets those roles
      // write rows without any condition. SELECT policies `USING (true)` are the ordinary
      // public-read pattern and are not flagged.
      if (policy.permissive && policy.command !== 'SELECT' && appliesToApiRoles(policy)) {
        const sides = alwaysTrueSides(policy);
        if (sides.length > 0) {
          add(
            'rls_policy_always_true',
            object,
            `Policy ${quoted(policy.name)} on ${id} (FOR ${policy.command} TO ${policy.roles.join(', ')}) has ${sides.join(' and ')} (true): ${policy.roles.join(', ')} can ${writeVerb(policy.command)} any row`,
            `Replace true with a condition on the row and the user, e.g. ((select auth.uid()) = user_id)`,
          );
        }
      }
    }

    // multiple_permissive_policies: for one table, role and command, more than one permissive
    // policy applies (a policy applies to its roles, PUBLIC expanded to anon, authenticated,
    // authenticator and dashboard_user; FOR ALL expanded to each command). Every one of them is
    // evaluated for each row. One finding per table, role and command.
    for (const overlap of permissiveOverlaps(table)) {
      add(
        'multiple_permissive_policies',
        `${id} (${overlap.role}, ${overlap.command})`,
        `Table ${id} has ${overlap.policies.length} permissive policies for role ${overlap.role} and ${overlap.command}: ${overlap.policies.map(quoted).join(', ')}; each is evaluated for every row`,
        `Combine them into one policy (OR the conditions) or make all but one restrictive if they must all hold`,
      );
    }
  }

  for (const [id, view] of views) {
    const inApi = api.has(view.schema);
    if (!inApi) continue;
    const selectable = API_ROLES.filter((role) => holds(view.grants, role, 'SELECT'));

    // auth_users_exposed: a view or materialized view in an API schema whose definition
    // references auth.users directly, that anon or authenticated can SELECT, and that runs with
    // its owner's rights (a view without security_invoker; materialized views always do).
    // Only direct references are seen (the definition text), as Supabase (pg_depend) does.
    const ownerRights = view.kind === 'materialized' || !view.securityInvoker;
    if (ownerRights && selectable.length > 0 && referencesAuthUsers(view.definition)) {
      add(
        'auth_users_exposed',
        id,
        `${view.kind === 'materialized' ? 'Materialized view' : 'View'} ${id} selects from auth.users and ${selectable.join(' and ')} can read it: user emails, phones and metadata are exposed through the Data API`,
        `REVOKE SELECT ON ${id} FROM anon, authenticated${view.kind === 'view' ? `, or ALTER VIEW ${id} SET (security_invoker = true)` : ''}, or move it to a schema that is not exposed`,
      );
    }

    // security_definer_view: a view in an API schema that anon or authenticated can SELECT and
    // that is not security_invoker, so it bypasses the RLS of the tables it reads (Supabase
    // checks the same privileges). Skipped on servers before PostgreSQL 15, which have no
    // security_invoker (serverVersion 0, unknown, is linted).
    if (
      view.kind === 'view' &&
      !view.securityInvoker &&
      selectable.length > 0 &&
      (model.serverVersion === 0 || model.serverVersion >= 150000)
    ) {
      add(
        'security_definer_view',
        id,
        `View ${id} runs with the rights of its owner (${view.owner}), not the caller, so ${selectable.join(' and ')} reading it bypass the row level security of the tables it reads`,
        `ALTER VIEW ${id} SET (security_invoker = true)`,
      );
    }

    // materialized_view_in_api: a materialized view in an API schema that anon or
    // authenticated can SELECT (materialized views have no RLS).
    if (view.kind === 'materialized' && selectable.length > 0) {
      add(
        'materialized_view_in_api',
        id,
        `Materialized view ${id} is in the API schema ${view.schema} and ${selectable.join(' and ')} can read it; materialized views have no row level security`,
        `REVOKE SELECT ON ${id} FROM anon, authenticated, or move it to a schema that is not exposed`,
      );
    }
  }
  for (const [id, view] of views) duplicateIndexes(id, view.indexes, add);

  // foreign_table_in_api: a foreign table in an API schema. The model has no foreign tables
  // (introspection reads ordinary and partitioned tables only), so this rule never fires; it
  // stays in LINT_RULES so its code is known.

  for (const [id, routine] of functions) {
    // function_search_path_mutable: a function or procedure in a user schema whose config
    // (proconfig) has no `search_path` entry, so it resolves names through the caller's
    // search_path. Aggregates (which cannot carry SET) are not linted.
    if (routine.kind !== 'aggregate' && !routine.config.some((c) => /^search_path=/i.test(c))) {
      add(
        'function_search_path_mutable',
        id,
        `${routine.kind === 'procedure' ? 'Procedure' : 'Function'} ${id} has no fixed search_path, so the objects it names are resolved through the caller's search_path`,
        `ALTER ${routine.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${id} SET search_path = '' (and schema-qualify the names in its body)`,
      );
    }

    // anon_/authenticated_security_definer_function_executable: a SECURITY DEFINER function in
    // an API schema (callable as RPC: a function, not a procedure, aggregate or trigger
    // function) that the role can EXECUTE, granted to it or to PUBLIC.
    if (api.has(routine.schema) && isRpcCallable(routine) && routine.securityDefiner) {
      for (const role of API_ROLES) {
        if (!holds(routine.grants, role, 'EXECUTE')) continue;
        const via = routine.grants.some((g) => g.grantee === role && g.privilege === 'EXECUTE')
          ? ''
          : ' (via PUBLIC)';
        add(
          `${role}_security_definer_function_executable`,
          id,
          `${role}${via} can call SECURITY DEFINER function ${id} through /rest/v1/rpc/${routine.name}; it runs with the rights of its owner (${routine.owner})`,
          `REVOKE EXECUTE ON FUNCTION ${id} FROM PUBLIC, ${role} if ${role} must not call it; otherwise make it SECURITY INVOKER or move it to a schema that is not exposed`,
        );
      }
    }
  }

  // extension_in_public: an extension installed in schema public.
  for (const extension of Object.values(model.extensions).sort((a, b) => compare(a.name, b.name))) {
    if (extension.schema !== 'public') continue;
    add(
      'extension_in_public',
      extension.name,
      `Extension ${extension.name} is installed in schema public, so its objects are exposed with the API schema`,
      `Install it in another schema: ALTER EXTENSION ${quoteIdent(extension.name)} SET SCHEMA extensions (where supported), or drop and re-create it WITH SCHEMA extensions`,
    );
  }

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

// ---------------------------------------------------------------------------------------------

function sortFindings(findings: LintFinding[]): LintFinding[] {
  return findings.sort(
    (a, b) =>
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      (RULE_ORDER.get(a.code) ?? 0) - (RULE_ORDER.get(b.code) ?? 0) ||
      compare(a.object, b.object),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedValues<T extends { name: string }>(record: Record<string, T>): T[] {
  return Object.values(record).sort((a, b) => compare(a.name, b.name));
}

function isManagedSchema(schema: string): boolean {
  return (MANAGED_SCHEMAS as readonly string[]).includes(schema);
}

/** The schema of an identity such as `auth.users` or `"My Schema".t`. */
function schemaOf(identity: string): string {
  const match = /^("(?:[^"]|"")*"|[^.]*)\./.exec(identity);
  const schema = match?.[1] ?? '';
  return schema.startsWith('"') ? schema.slice(1, -1).replace(/""/g, '"') : schema;
}

function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoted(name);
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Granted to the role or to PUBLIC. */
function holds(grants: Grant[], role: string, privilege: string): boolean {
  return grants.some((g) => g.privilege === privilege && (g.grantee === role || g.grantee === 'PUBLIC'));
}

/** The index's leading key columns are exactly `columns` (in any order); valid and not partial. */
function coversColumns(index: Index, columns: string[]): boolean {
  if (!index.valid || / WHERE /i.test(index.definition) || columns.length === 0) return false;
  return sameSet(index.columns.slice(0, columns.length), columns);
}

function duplicateIndexes(
  relation: string,
  indexes: Record<string, Index>,
  add: (code: string, object: string, message: string, remediation: string) => void,
): void {
  const groups = new Map<string, string[]>();
  for (const index of sortedValues(indexes)) {
    const shape = withoutIndexName(index.definition);
    groups.set(shape, [...(groups.get(shape) ?? []), index.name]);
  }
  for (const names of groups.values()) {
    if (names.length < 2) continue;
    const [keep, ...drop] = names;
    add(
      'duplicate_index',
      `${relation} indexes ${names.map(quoted).join(', ')}`,
      `${relation} has ${names.length} identical indexes: ${names.map(quoted).join(', ')}; every write maintains each of them`,
      `Keep one (e.g. ${quoted(keep as string)}) and drop the others: ${drop.map((n) => `DROP INDEX ${schemaPrefix(relation)}${quoteIdent(n)}`).join('; ')}`,
    );
  }
}

function schemaPrefix(relation: string): string {
  const schema = schemaOf(relation);
  return schema ? `${quoteIdent(schema)}.` : '';
}

/** pg_get_indexdef() without the index name: `CREATE UNIQUE INDEX ON public.t USING btree (a)`. */
function withoutIndexName(definition: string): string {
  return definition.replace(/^(CREATE (?:UNIQUE )?INDEX )(?:"(?:[^"]|"")*"|\S+) (ON )/i, '$1$2');
}

function appliesToApiRoles(policy: Policy): boolean {
  return policy.roles.some((r) => r === 'PUBLIC' || r === 'anon' || r === 'authenticated');
}

/** Which of USING / WITH CHECK are literally true and matter for the policy's command. */
function alwaysTrueSides(policy: Policy): string[] {
  const sides: string[] = [];
  const usingMatters = policy.command !== 'INSERT';
  const checkMatters = policy.command === 'INSERT' || policy.command === 'UPDATE' || policy.command === 'ALL';
  if (usingMatters && isLiteralTrue(policy.using)) sides.push('USING');
  if (checkMatters && isLiteralTrue(policy.withCheck)) sides.push('WITH CHECK');
  return sides;
}

function writeVerb(command: PolicyCommand): string {
  switch (command) {
    case 'INSERT':
      return 'insert';
    case 'UPDATE':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return 'read, insert, update and delete';
  }
}

const COMMANDS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

function permissiveOverlaps(table: Table): { role: string; command: string; policies: string[] }[] {
  const permissive = sortedValues(table.policies).filter((p) => p.permissive);
  if (permissive.length < 2) return [];
  const named = permissive.flatMap((p) => p.roles).filter((r) => r !== 'PUBLIC');
  const roles = [...new Set([...PUBLIC_EXPANSION, ...named])]
    .filter((r) => !RLS_EXEMPT_ROLES.includes(r) && !/^pg_/.test(r) && !/^supabase.*admin$/.test(r))
    .sort(compare);
  const overlaps: { role: string; command: string; policies: string[] }[] = [];
  for (const role of roles) {
    for (const command of COMMANDS) {
      const policies = permissive
        .filter((p) => p.command === command || p.command === 'ALL')
        .filter((p) => p.roles.includes(role) || p.roles.includes('PUBLIC'))
        .map((p) => p.name);
      if (policies.length > 1) overlaps.push({ role, command, policies });
    }
  }
  return overlaps;
}

/** `auth.users` (or `"auth"."users"`) named as a relation in a view definition. */
function referencesAuthUsers(definition: string): boolean {
  return /(?<![\w$."])(?:auth|"auth")\.(?:users|"users")(?![\w$"])/.test(definition);
}

function referencesUserMetadata(expression: string | null): boolean {
  if (expression === null) return false;
  if (/raw_user_meta_data/i.test(expression)) return true;
  const readsJwt = /(?<![\w$."])auth\.jwt\s*\(/.test(expression) || /request\.jwt\.claim/.test(expression);
  return readsJwt && /user_metadata/i.test(expression);
}

/** The functions whose per-row evaluation auth_rls_initplan is about. */
const RLS_CALL = /(?<![\w$."])(auth\.(?:uid|jwt|role|email)|(?:pg_catalog\.)?current_setting)\s*\(/y;

/** The calls in USING / WITH CHECK that are not in the select list of a scalar sub-SELECT without FROM. */
function unwrappedRlsCalls(policy: Policy): string[] {
  const calls = new Set<string>();
  for (const expression of [policy.using, policy.withCheck]) {
    if (expression === null) continue;
    for (const call of unwrappedCalls(expression)) calls.add(call);
  }
  return [...calls].sort();
}

/**
 * Scans a deparsed expression keeping a stack of parenthesized groups; a group whose content
 * starts with SELECT is a sub-SELECT, and FROM at its own level ends its select list. A call
 * is wrapped when the innermost enclosing sub-SELECT has not reached its FROM yet.
 */
export function unwrappedCalls(expression: string): string[] {
  const found: string[] = [];
  const stack: { select: boolean; from: boolean }[] = [];
  const words: string[] = [];
  scanExpression(expression, (i) => {
    const ch = expression[i] ?? '';
    if (ch === '(') {
      stack.push({ select: /^\(\s*select\b/i.test(expression.slice(i, i + 20)), from: false });
      return undefined;
    }
    if (ch === ')') {
      stack.pop();
      return undefined;
    }
    if (!/[A-Za-z_]/.test(ch) || /[\w$."]/.test(expression[i - 1] ?? '')) return undefined;
    RLS_CALL.lastIndex = i;
    const call = RLS_CALL.exec(expression);
    if (call) {
      const innermostSelect = [...stack].reverse().find((g) => g.select);
      if (!innermostSelect || innermostSelect.from) found.push(`${call[1]?.replace(/^pg_catalog\./, '')}()`);
      // Continue right after the name, so the call's own parenthesis opens a group.
      return i + (call[1]?.length ?? 1);
    }
    const word = /^[A-Za-z_][\w$]*/.exec(expression.slice(i, i + 64))?.[0] ?? ch;
    const top = stack[stack.length - 1];
    // FROM ends the select list, except in `IS [NOT] DISTINCT FROM`.
    if (top?.select && word.toLowerCase() === 'from' && words[words.length - 1] !== 'distinct')
      top.from = true;
    words.push(word.toLowerCase());
    return i + word.length;
  });
  return found;
}

function isRpcCallable(routine: Routine): boolean {
  return routine.kind === 'function' && routine.returns !== 'trigger' && routine.returns !== 'event_trigger';
}

/**
 * Sensitive column names (sensitive_columns_exposed). A name is split into words (on `_`, `-`,
 * spaces and camelCase; lower-cased) and is sensitive when it contains one of these word
 * sequences: password, passwd, pwd, passphrase, secret, private key, signing key, encryption
 * key, api key, apikey, access key, auth key, token, jwt, otp, recovery code(s), ssn, social
 * security number, national id, tax id, passport number, driver(s) license, credit card, card
 * number, cc number, cvv, cvc, iban, bank account, account number, routing number. It is not
 * sensitive when the name goes on after the match and ends with a word that makes it metadata
 * about the secret rather than the secret (at, on, id, count, type, kind, expires, expiry,
 * expiration, hint, enabled, required, set, length, changed, updated, created, version, used):
 * `password_changed_at`, `token_count`, `token_id` are not sensitive; `reset_token`,
 * `password_hash`, `stripe_api_key` are.
 */
export const SENSITIVE_COLUMN_WORDS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'private key',
  'signing key',
  'encryption key',
  'api key',
  'apikey',
  'access key',
  'auth key',
  'token',
  'jwt',
  'otp',
  'recovery code',
  'recovery codes',
  'ssn',
  'social security number',
  'national id',
  'tax id',
  'passport number',
  'driver license',
  'drivers license',
  'credit card',
  'card number',
  'cc number',
  'cvv',
  'cvc',
  'iban',
  'bank account',
  'account number',
  'routing number',
];

const METADATA_SUFFIXES = new Set([
  'at',
  'on',
  'id',
  'count',
  'type',
  'kind',
  'expires',
  'expiry',
  'expiration',
  'hint',
  'enabled',
  'required',
  'set',
  'length',
  'changed',
  'updated',
  'created',
  'version',
  'used',
]);

export function isSensitiveColumnName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  for (const term of SENSITIVE_COLUMN_WORDS) {
    const sequence = term.split(' ');
    for (let start = 0; start + sequence.length <= words.length; start++) {
      if (!sequence.every((w, k) => words[start + k] === w)) continue;
      const end = start + sequence.length;
      const last = words[words.length - 1] ?? '';
      if (end < words.length && METADATA_SUFFIXES.has(last)) continue;
      return true;
    }
  }
  return false;
}
