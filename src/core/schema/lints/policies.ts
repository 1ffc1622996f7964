import type { Policy, PolicyCommand, Table } from '../model.js';
import { isLiteralTrue, scanExpression } from '../rls.js';
import { compare, type LintContext, quoted, sortedEntries, sortedValues } from './util.js';

/**
 * The roles multiple_permissive_policies considers: these four, as Supabase does, plus the roles
 * named explicitly in the table's permissive policies; minus roles that bypass RLS (policies
 * never apply to them) and internal ones (pg_*, supabase*admin). A PUBLIC policy applies to
 * each of them.
 */
const PUBLIC_EXPANSION = ['anon', 'authenticated', 'authenticator', 'dashboard_user'];
const RLS_EXEMPT_ROLES = ['service_role', 'postgres', 'supabase_admin'];

/** The rules about policies: on all tables, managed ones (storage.objects…) included. */
export function lintPolicies({ model, add }: LintContext): void {
  const tables = sortedEntries(model.tables);
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
