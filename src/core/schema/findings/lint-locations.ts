import type { AcceptedHazard } from '../../config.js';
import type { Migration } from '../../migrations/model.js';
import { foreignTablesOf } from '../lints/foreign-tables.js';
import { bucketObject, listingPolicies } from '../lints/storage.js';
import type { LintFinding } from '../lints.js';
import type { SchemaModel } from '../model.js';
import { Acceptance } from './accept.js';
import { lintCategory } from './codes.js';
import { type Found, Locator } from './locate.js';
import { locationOf, PendingStatements } from './pending.js';
import { argumentCount } from './statement-match.js';
import type { QualifiedName } from './tree.js';

/**
 * Where a lint the pending migrations introduce comes from: the statement that creates or
 * changes its object (the CREATE TABLE of a table without RLS, the CREATE POLICY of a policy,
 * the CREATE FUNCTION of a function…), found with the same locator as hazards.
 *
 * A lint's `object` starts with its object's identity in the model (`public.posts`,
 * `public.f(uuid)`, an extension's name), followed for members by what lints.ts appends:
 * ` policy "p"`, ` constraint "c"`, ` indexes "a", "b"`, ` (role, command)`.
 */
type TableLocator = (locate: Locator, table: QualifiedName, members: string[]) => Found;
type FunctionLocator = (locate: Locator, routine: QualifiedName, argumentCount: number) => Found;

const TABLE_LINTS: Record<string, TableLocator> = {
  rls_disabled_in_public: (l, t) => l.latest(l.creation(t), l.rlsDisable(t), l.relationRename(t)),
  sensitive_columns_exposed: (l, t) =>
    l.latest(l.creation(t), l.rlsDisable(t), l.relationRename(t), l.columnAddition(t)),
  policy_exists_rls_disabled: (l, t) =>
    l.latest(
      l.creation(t),
      l.rlsDisable(t),
      l.onRelation(t, (s) => s.nodeType === 'CreatePolicyStmt'),
    ),
  no_primary_key: (l, t) =>
    l.latest(
      l.creation(t),
      l.alterCommand(t, (cmd) => cmd.subtype === 'AT_DropConstraint'),
    ),
  rls_enabled_no_policy: (l, t) => l.latest(l.creation(t), l.rlsEnable(t)),
  fkey_to_auth_unique: (l, t, [name]) =>
    (name ? l.constraintAddition(t, name, 'foreign key') : undefined) ?? l.creation(t),
  unindexed_foreign_keys: (l, t, [name]) =>
    (name ? l.constraintAddition(t, name, 'foreign key') : undefined) ?? l.creation(t),
  duplicate_index: (l, t, names) => l.indexCreation(t, names),
  rls_references_user_metadata: (l, t, [name]) => (name ? l.policyDefinition(t, name) : undefined),
  auth_rls_initplan: (l, t, [name]) => (name ? l.policyDefinition(t, name) : undefined),
  rls_policy_always_true: (l, t, [name]) => (name ? l.policyDefinition(t, name) : undefined),
  multiple_permissive_policies: (l, t) =>
    l.onRelation(t, (s) => s.nodeType === 'CreatePolicyStmt' || s.nodeType === 'AlterPolicyStmt'),
  security_definer_view: (l, v) =>
    l.latest(
      l.creation(v),
      l.alterCommand(v, (cmd) => cmd.subtype === 'AT_SetRelOptions' || cmd.subtype === 'AT_ResetRelOptions'),
    ),
  auth_users_exposed: (l, v) => l.latest(l.creation(v), l.relationGrant(v)),
  materialized_view_in_api: (l, v) => l.latest(l.creation(v), l.relationGrant(v)),
  // CREATE FOREIGN TABLE is found once the locator's creation() knows CreateForeignTableStmt;
  // until then the GRANT that exposes it.
  foreign_table_in_api: (l, t) => l.latest(l.creation(t), l.relationGrant(t)),
  unsupported_reg_types: (l, t, [column]) =>
    l.latest(l.creation(t), l.columnAddition(t), column ? l.columnTypeChange(t, column) : undefined),
};

const FUNCTION_LINTS: Record<string, FunctionLocator> = {
  function_search_path_mutable: (l, f, n) => l.functionDefinition(f, n),
  anon_security_definer_function_executable: (l, f, n) =>
    l.latest(l.functionDefinition(f, n), l.functionGrant(f)),
  authenticated_security_definer_function_executable: (l, f, n) =>
    l.latest(l.functionDefinition(f, n), l.functionGrant(f)),
};

/** The lints with the statement each comes from, accepted by the one accept rule of findings. */
export function locateAndAcceptLints(
  lints: LintFinding[],
  pending: Migration[],
  after: SchemaModel,
  accepted: AcceptedHazard[],
): LintFinding[] {
  const locate = new Locator(new PendingStatements(pending));
  const acceptance = new Acceptance(pending, accepted);
  return lints.map((lint) => {
    const at = lintStatement(lint, after, locate);
    const located = at ? { ...lint, location: locationOf(at) } : lint;
    return acceptance.apply(located, lintCategory(lint.code));
  });
}

export function lintStatement(lint: LintFinding, after: SchemaModel, locate: Locator): Found {
  if (lint.code === 'extension_in_public' || lint.code === 'extension_versions_outdated')
    return locate.extensionPlacement(lint.object);
  if (lint.code === 'public_bucket_allows_listing') return bucketListing(lint, after, locate);
  const routine = after.functions[lint.object];
  const functionLocator = FUNCTION_LINTS[lint.code];
  if (routine && functionLocator)
    return functionLocator(locate, routine, argumentCount(routine.identityArguments));
  const relation = relationOf(lint.object, after);
  const tableLocator = TABLE_LINTS[lint.code];
  if (!relation || !tableLocator) return undefined;
  return tableLocator(locate, relation.name, quotedNames(lint.object.slice(relation.id.length)));
}

/**
 * public_bucket_allows_listing: the latest CREATE or ALTER POLICY of the bucket's broad SELECT
 * policies on storage.objects. Making an existing bucket public (an INSERT or UPDATE of
 * storage.buckets) is not located: the locator does not read DML on storage.buckets.
 */
function bucketListing(lint: LintFinding, after: SchemaModel, locate: Locator): Found {
  const bucket = Object.values(after.buckets).find((b) => bucketObject(b) === lint.object);
  if (!bucket) return undefined;
  const objects: QualifiedName = { schema: 'storage', name: 'objects' };
  return locate.latest(
    ...listingPolicies(after, bucket.id).map((policy) => locate.policyDefinition(objects, policy.name)),
  );
}

/** The table, view or foreign table whose identity the object starts with. */
function relationOf(object: string, after: SchemaModel): { id: string; name: QualifiedName } | undefined {
  for (const relations of [after.tables, after.views, foreignTablesOf(after)]) {
    for (const [id, relation] of Object.entries(relations)) {
      if (object === id || object.startsWith(`${id} `))
        return { id, name: { schema: relation.schema, name: relation.name } };
    }
  }
  return undefined;
}

/** `policy "a ""b"""` → `['a "b"']`. */
function quotedNames(text: string): string[] {
  return [...text.matchAll(/"((?:[^"]|"")*)"/g)].map((match) => (match[1] as string).replace(/""/g, '"'));
}
