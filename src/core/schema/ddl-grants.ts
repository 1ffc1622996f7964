import { quoteIdent } from '../sql/identifiers.js';
import type { Column, DefaultPrivilege, Grant } from './model.js';

// Privileges in the normalized DDL (ddl.ts): grants grouped per grantee, their summaries and statements.

/** The identity of a default-privileges entry: `role:schema:objectType`, `*` for every schema. */
export function defaultPrivilegeId(entry: DefaultPrivilege): string {
  return `${quoteIdent(entry.role)}:${entry.schema === null ? '*' : quoteIdent(entry.schema)}:${entry.objectType}`;
}

/** What privileges apply to, for ALL and for the GRANT … ON clause. */
export type GrantTarget =
  | 'table'
  | 'column'
  | 'sequence'
  | 'function'
  | 'procedure'
  | 'schema'
  | 'type'
  | 'foreign data wrapper'
  | 'foreign server';

const PRIVILEGE_ORDER = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
  'MAINTAIN',
  'USAGE',
  'CREATE',
  'CONNECT',
  'TEMPORARY',
  'EXECUTE',
];

function allPrivileges(target: GrantTarget, serverVersion: number): string[] {
  switch (target) {
    case 'table': {
      const base = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
      return serverVersion === 0 || serverVersion >= 170000 ? [...base, 'MAINTAIN'] : base;
    }
    case 'column':
      return ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'];
    case 'sequence':
      return ['SELECT', 'UPDATE', 'USAGE'];
    case 'function':
    case 'procedure':
      return ['EXECUTE'];
    case 'schema':
      return ['USAGE', 'CREATE'];
    case 'type':
    case 'foreign data wrapper':
    case 'foreign server':
      return ['USAGE'];
  }
}

function comparePrivileges(a: string, b: string): number {
  const ia = PRIVILEGE_ORDER.indexOf(a);
  const ib = PRIVILEGE_ORDER.indexOf(b);
  if (ia !== ib) return (ia < 0 ? PRIVILEGE_ORDER.length : ia) - (ib < 0 ? PRIVILEGE_ORDER.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

interface GrantGroup {
  grantee: string;
  grantable: boolean;
  /** `ALL` when the grantee holds every privilege of the target (and there are at least four). */
  privileges: string;
}

/** Grants grouped per grantee (and grant option), sorted by grantee: one GRANT each. */
export function groupGrants(grants: Grant[], target: GrantTarget, serverVersion = 0): GrantGroup[] {
  const groups = new Map<string, { grantee: string; grantable: boolean; privileges: Set<string> }>();
  for (const grant of grants) {
    const key = `${grant.grantable ? 1 : 0}\u0000${grant.grantee}`;
    let group = groups.get(key);
    if (!group) {
      group = { grantee: grant.grantee, grantable: grant.grantable, privileges: new Set() };
      groups.set(key, group);
    }
    group.privileges.add(grant.privilege.toUpperCase());
  }
  const all = allPrivileges(target, serverVersion);
  return [...groups.values()]
    .sort((a, b) =>
      a.grantee === b.grantee ? Number(a.grantable) - Number(b.grantable) : a.grantee < b.grantee ? -1 : 1,
    )
    .map((group) => {
      const list = [...group.privileges].sort(comparePrivileges);
      const isAll =
        all.length >= 4 && all.every((p) => group.privileges.has(p)) && list.length === all.length;
      return {
        grantee: group.grantee,
        grantable: group.grantable,
        privileges: isAll ? 'ALL' : list.join(', '),
      };
    });
}

/**
 * Grants as short sorted lines, one per grantee (and grant option): `anon: SELECT`,
 * `authenticated: ALL`, `postgres: ALL WITH GRANT OPTION`. The form diffs report grants in.
 */
export function grantSummary(grants: Grant[], target: GrantTarget, serverVersion = 0): string[] {
  return groupGrants(grants, target, serverVersion).map(
    (g) => `${g.grantee}: ${g.privileges}${g.grantable ? ' WITH GRANT OPTION' : ''}`,
  );
}

export function granteeSql(grantee: string, version: number): string {
  return grantee.toUpperCase() === 'PUBLIC' ? 'PUBLIC' : quoteIdent(grantee, version);
}

export function grantStatements(grants: Grant[], target: GrantTarget, on: string, version: number): string[] {
  return groupGrants(grants, target, version).map(
    (g) =>
      `GRANT ${g.privileges} ON ${on} TO ${granteeSql(g.grantee, version)}${g.grantable ? ' WITH GRANT OPTION' : ''};`,
  );
}

export function columnGrantStatements(
  table: string,
  columns: Pick<Column, 'name' | 'grants'>[],
  version: number,
): string[] {
  // grantee + grant option → privilege → columns (in column order)
  const groups = new Map<
    string,
    { grantee: string; grantable: boolean; privileges: Map<string, string[]> }
  >();
  for (const column of columns) {
    for (const grant of column.grants) {
      const key = `${grant.grantable ? 1 : 0}\u0000${grant.grantee}`;
      let group = groups.get(key);
      if (!group) {
        group = { grantee: grant.grantee, grantable: grant.grantable, privileges: new Map() };
        groups.set(key, group);
      }
      const privilege = grant.privilege.toUpperCase();
      const list = group.privileges.get(privilege) ?? [];
      if (!list.includes(column.name)) list.push(column.name);
      group.privileges.set(privilege, list);
    }
  }
  return [...groups.values()]
    .sort((a, b) =>
      a.grantee === b.grantee ? Number(a.grantable) - Number(b.grantable) : a.grantee < b.grantee ? -1 : 1,
    )
    .map((group) => {
      const privileges = [...group.privileges.entries()]
        .sort(([a], [b]) => comparePrivileges(a, b))
        .map(([privilege, cols]) => `${privilege} (${cols.map((c) => quoteIdent(c, version)).join(', ')})`);
      return `GRANT ${privileges.join(', ')} ON TABLE ${table} TO ${granteeSql(group.grantee, version)}${
        group.grantable ? ' WITH GRANT OPTION' : ''
      };`;
    });
}
