import { duplicateIndexes, lintRelationColumns } from './tables.js';
import { API_ROLES, holds, isManagedSchema, type LintContext, sortedEntries } from './util.js';

/** The rules about views and materialized views in user schemas. */
export function lintViews({ model, api, add }: LintContext): void {
  const views = sortedEntries(model.views).filter(([, v]) => !isManagedSchema(v.schema));

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

  for (const [id, view] of views) {
    duplicateIndexes(id, view.indexes, add);
    // unsupported_reg_types on materialized view columns, which hold data as table columns do
    // (see lintRelationColumns). Not on plain views: they store nothing and pg_upgrade re-creates
    // them from their definition (the advisor, reading every pg_attribute, reports them too).
    if (view.kind === 'materialized') lintRelationColumns(id, 'Materialized view', view, add);
  }
}

/** `auth.users` (or `"auth"."users"`) named as a relation in a view definition. */
function referencesAuthUsers(definition: string): boolean {
  return /(?<![\w$."])(?:auth|"auth")\.(?:users|"users")(?![\w$"])/.test(definition);
}
