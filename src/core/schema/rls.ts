import type { Grant, Policy, SchemaModel, Table } from './model.js';

/**
 * The RLS access matrix: for a table, a role and a command, which rows the role can reach,
 * before and after the pending migrations. Everything is computed from the SchemaModel
 * alone (grants, RLS flags, policies); no database is queried.
 *
 * How one cell is decided (`accessLevel`), in this order:
 * 1. The table is not in the model → `null`.
 * 2. The role holds no privilege for the command on the table → `none`. A privilege is held
 *    when it is granted to the role itself or to PUBLIC, on the table or on any of its columns
 *    (a column grant gives partial access for SELECT/INSERT/UPDATE; it counts as having the
 *    privilege, since the model has no "some columns" level). Role membership is not modeled:
 *    a grant to a group role does not count for its members. Superusers are not modeled either:
 *    their privileges come from the grants like anyone else's (the table owner's privileges are
 *    in the grants, because a NULL ACL is expanded to the owner's defaults).
 * 3. The role has BYPASSRLS → `bypass`. The model has no role attributes, so the roles that
 *    bypass RLS are an option (`bypassRoles`), by default Supabase's: service_role, postgres and
 *    supabase_admin.
 * 4. The role owns the table and RLS is not FORCEd → `bypass` (owners are exempt from their own
 *    table's policies unless FORCE ROW LEVEL SECURITY).
 * 5. RLS is disabled → `all`.
 * 6. RLS is enabled. The applicable policies are those whose roles include the role or PUBLIC
 *    and whose command is the command or ALL. As PostgreSQL does (rowsecurity.c):
 *    - no applicable permissive policy → `none` (default deny);
 *    - otherwise the rows are (OR of the permissive predicates) AND (AND of the restrictive
 *      predicates); a policy without a predicate for this side contributes nothing, and if no
 *      permissive predicate remains it is `none`;
 *    - a permissive predicate that is literally `true`, with no restrictive predicate (other
 *      than literally `true` ones) → `all`.
 *    The predicate is USING for SELECT and DELETE; WITH CHECK for INSERT (defaulting to USING
 *    for an ALL policy without WITH CHECK); for UPDATE both are shown, `USING (…) CHECK (…)`,
 *    WITH CHECK defaulting to USING per policy. An UPDATE is `all` only when both sides are.
 *    Not modeled: PostgreSQL also applies SELECT policies to an UPDATE/DELETE whose WHERE or
 *    RETURNING reads the table, and to INSERT … RETURNING / ON CONFLICT.
 *
 * Expressions are shown as PostgreSQL deparsed them (pg_get_expr), deduplicated and sorted so
 * that the same policies in another order or under other names give the same text.
 */
export type AccessLevel =
  | { kind: 'none' }
  | { kind: 'all' }
  | { kind: 'rows'; expression: string }
  | { kind: 'bypass' };

export type AccessCommand = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

export const ACCESS_COMMANDS: readonly AccessCommand[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

export interface AccessCell {
  role: string;
  command: AccessCommand;
  /** null: the table does not exist on that side. */
  before: AccessLevel | null;
  after: AccessLevel | null;
  changed: boolean;
}

export interface TableAccess {
  table: string;
  cells: AccessCell[];
}

export interface AccessOptions {
  /** Roles with BYPASSRLS (the model has no role attributes). */
  bypassRoles?: string[];
}

export interface AccessMatrixOptions extends AccessOptions {
  /** Default DEFAULT_ACCESS_ROLES. */
  roles?: string[];
  /** Default: the tables whose RLS flags, policies, grants or owner differ, or that exist on one side only. */
  tables?: string[];
}

/** Supabase's roles with BYPASSRLS (service_role and postgres) and its superuser. */
export const DEFAULT_BYPASS_ROLES: readonly string[] = ['service_role', 'postgres', 'supabase_admin'];

/** The roles PostgREST requests run as. */
export const DEFAULT_ACCESS_ROLES: readonly string[] = ['anon', 'authenticated', 'service_role'];

export function accessLevel(
  model: SchemaModel,
  table: string,
  role: string,
  command: AccessCommand,
  options: AccessOptions = {},
): AccessLevel | null {
  const t = model.tables[table];
  if (!t) return null;
  if (!hasTablePrivilege(t, role, command, { columns: true })) return { kind: 'none' };
  if ((options.bypassRoles ?? DEFAULT_BYPASS_ROLES).includes(role)) return { kind: 'bypass' };
  if (role === t.owner && !t.rlsForced) return { kind: 'bypass' };
  if (!t.rlsEnabled) return { kind: 'all' };

  const applicable = Object.values(t.policies).filter(
    (p) =>
      (p.command === command || p.command === 'ALL') &&
      (p.roles.includes(role) || p.roles.includes('PUBLIC')),
  );
  const permissive = applicable.filter((p) => p.permissive);
  const restrictive = applicable.filter((p) => !p.permissive);
  if (permissive.length === 0) return { kind: 'none' };

  const using = (p: Policy) => p.using;
  const check = (p: Policy) => p.withCheck ?? p.using;
  if (command === 'UPDATE') {
    const u = combine(permissive, restrictive, using);
    const c = combine(permissive, restrictive, check);
    if (u.kind === 'none' || c.kind === 'none') return { kind: 'none' };
    if (u.kind === 'all' && c.kind === 'all') return { kind: 'all' };
    const show = (side: Side) => (side.kind === 'rows' ? parenthesize(side.expression) : '(true)');
    return { kind: 'rows', expression: `USING ${show(u)} CHECK ${show(c)}` };
  }
  return combine(permissive, restrictive, command === 'INSERT' ? check : using);
}

type Side = { kind: 'none' } | { kind: 'all' } | { kind: 'rows'; expression: string };

function combine(permissive: Policy[], restrictive: Policy[], pick: (p: Policy) => string | null): Side {
  // A permissive `false` admits nothing; a restrictive `false` denies everything.
  const permissiveExprs = unique(permissive.map(pick)).filter((e) => !isLiteralFalse(e));
  if (permissiveExprs.length === 0) return { kind: 'none' };
  if (unique(restrictive.map(pick)).some(isLiteralFalse)) return { kind: 'none' };
  const restrictiveExprs = unique(restrictive.map(pick)).filter((e) => !isLiteralTrue(e));
  const anyTrue = permissiveExprs.some(isLiteralTrue);
  if (anyTrue && restrictiveExprs.length === 0) return { kind: 'all' };

  const parts: string[] = [];
  if (!anyTrue) {
    parts.push(
      permissiveExprs.length === 1
        ? (permissiveExprs[0] as string)
        : permissiveExprs.map(parenthesizeIfNeeded).join(' OR '),
    );
  }
  parts.push(...restrictiveExprs);
  const expression =
    parts.length === 1 ? (parts[0] as string) : parts.map(parenthesizeIfNeeded).join(' AND ');
  return { kind: 'rows', expression };
}

function unique(expressions: (string | null)[]): string[] {
  return [...new Set(expressions.filter((e): e is string => e !== null && e.trim() !== ''))].sort();
}

/**
 * Whether the role holds `privilege` on the table: granted to the role itself or to PUBLIC; with
 * `columns`, a grant of it on any column also counts.
 */
export function hasTablePrivilege(
  table: Table,
  role: string,
  privilege: string,
  options: { columns?: boolean } = {},
): boolean {
  const holds = (grants: Grant[]) =>
    grants.some((g) => g.privilege === privilege && (g.grantee === role || g.grantee === 'PUBLIC'));
  if (holds(table.grants)) return true;
  return options.columns === true && table.columns.some((c) => holds(c.grants));
}

export function accessMatrix(
  before: SchemaModel,
  after: SchemaModel,
  options: AccessMatrixOptions = {},
): TableAccess[] {
  const roles = options.roles ?? [...DEFAULT_ACCESS_ROLES];
  const tables = options.tables ?? changedAccessTables(before, after);
  const levelOptions: AccessOptions = options.bypassRoles ? { bypassRoles: options.bypassRoles } : {};
  return [...new Set(tables)].sort().map((table) => ({
    table,
    cells: roles.flatMap((role) =>
      ACCESS_COMMANDS.map((command) => {
        const b = accessLevel(before, table, role, command, levelOptions);
        const a = accessLevel(after, table, role, command, levelOptions);
        return { role, command, before: b, after: a, changed: !sameLevel(b, a) };
      }),
    ),
  }));
}

/**
 * The tables whose access may differ: present on one side only, or with a different owner,
 * RLS enabled/forced flag, set of policies (name, command, permissive, roles, USING, WITH
 * CHECK; comments ignored), table grants or column grants (grantee and privilege; the grant
 * option ignored). Sorted.
 */
export function changedAccessTables(before: SchemaModel, after: SchemaModel): string[] {
  const ids = new Set([...Object.keys(before.tables), ...Object.keys(after.tables)]);
  return [...ids]
    .filter((id) => accessSignature(before.tables[id]) !== accessSignature(after.tables[id]))
    .sort();
}

function accessSignature(table: Table | undefined): string {
  if (!table) return 'absent';
  const grants = (list: Grant[]) => list.map((g) => `${g.grantee}:${g.privilege}`).sort();
  return JSON.stringify({
    owner: table.owner,
    rls: table.rlsEnabled,
    forced: table.rlsForced,
    policies: Object.values(table.policies)
      .map((p) => [p.name, p.command, p.permissive, [...p.roles].sort(), p.using, p.withCheck])
      .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    grants: grants(table.grants),
    columns: table.columns
      .filter((c) => c.grants.length > 0)
      .map((c) => [c.name, grants(c.grants)])
      .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
  });
}

function sameLevel(a: AccessLevel | null, b: AccessLevel | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind !== b.kind) return false;
  return a.kind !== 'rows' || a.expression === (b as { expression: string }).expression;
}

// ---------------------------------------------------------------------------------------------
// Deparsed-expression helpers (shared with lints.ts). They scan PostgreSQL's deparsed text,
// skipping string literals ('…', E'…') and quoted identifiers ("…").
// ---------------------------------------------------------------------------------------------

/**
 * Visits every character of `text` that is outside string literals and quoted identifiers,
 * with its index. The visitor may return a number to skip to that index.
 */
export function scanExpression(text: string, visit: (index: number) => number | undefined): void {
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "'") {
      const escapes = i > 0 && /[eE]/.test(text[i - 1] ?? '') && !/[\w$]/.test(text[i - 2] ?? '');
      i++;
      while (i < text.length) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") break;
        else i++;
      }
      i++;
      continue;
    }
    if (ch === '"') {
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') break;
        else i++;
      }
      i++;
      continue;
    }
    const next = visit(i);
    i = next !== undefined && next > i ? next : i + 1;
  }
}

/** Whether the whole expression is enclosed in one pair of parentheses: `(a = b)` but not `(a) OR (b)`. */
export function isFullyParenthesized(expression: string): boolean {
  const text = expression.trim();
  if (!text.startsWith('(') || !text.endsWith(')')) return false;
  let depth = 0;
  let closesAt = -1;
  scanExpression(text, (i) => {
    if (closesAt >= 0) return text.length;
    if (text[i] === '(') depth++;
    else if (text[i] === ')') {
      depth--;
      if (depth === 0) closesAt = i;
    }
    return undefined;
  });
  return closesAt === text.length - 1;
}

/** Strips enclosing parentheses and whitespace: `((true))` → `true`. */
export function stripParentheses(expression: string): string {
  let text = expression.trim();
  while (isFullyParenthesized(text)) text = text.slice(1, -1).trim();
  return text;
}

/** Whether a deparsed predicate is literally `true` (as PostgreSQL deparses `USING (true)`). */
export function isLiteralTrue(expression: string | null): boolean {
  return expression !== null && stripParentheses(expression).toLowerCase() === 'true';
}

export function isLiteralFalse(expression: string | null): boolean {
  return expression !== null && stripParentheses(expression).toLowerCase() === 'false';
}

/** `(expr)` unless it already is fully parenthesized. */
function parenthesize(expression: string): string {
  return isFullyParenthesized(expression) ? expression.trim() : `(${expression.trim()})`;
}

/** Parenthesizes only what could bind wrongly next to OR/AND: anything with top-level spaces. */
function parenthesizeIfNeeded(expression: string): string {
  const text = expression.trim();
  if (isFullyParenthesized(text)) return text;
  let space = false;
  let depth = 0;
  scanExpression(text, (i) => {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (depth === 0 && /\s/.test(text[i] ?? '')) space = true;
    return undefined;
  });
  return space ? `(${text})` : text;
}

/** An access level in words: `no access`, `all rows`, `bypasses RLS`, `rows where …`. */
export function describeAccess(level: AccessLevel | null): string {
  if (!level) return '—';
  switch (level.kind) {
    case 'none':
      return 'no access';
    case 'all':
      return 'all rows';
    case 'bypass':
      return 'bypasses RLS';
    case 'rows':
      return `rows where ${level.expression.replace(/\s+/g, ' ')}`;
  }
}
