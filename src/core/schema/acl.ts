import type { Grant } from './model.js';

/*
 * ACLs as introspection reads them: aclitems in their text form (`grantee=privileges/grantor`),
 * parsed here rather than expanded by aclexplode() in SQL, which is an order of magnitude
 * slower for thousands of objects.
 */

/** Code-unit order: the same everywhere, whatever the database's collation. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** aclitem privilege letters (ACL_ALL_RIGHTS_STR) → the names aclexplode() reports. */
const PRIVILEGES: Record<string, string> = {
  a: 'INSERT',
  r: 'SELECT',
  w: 'UPDATE',
  d: 'DELETE',
  D: 'TRUNCATE',
  x: 'REFERENCES',
  t: 'TRIGGER',
  X: 'EXECUTE',
  U: 'USAGE',
  C: 'CREATE',
  T: 'TEMPORARY',
  c: 'CONNECT',
  s: 'SET',
  A: 'ALTER SYSTEM',
  m: 'MAINTAIN',
};

/**
 * Reads the role name of an aclitem's text form at `start`: bare, or double-quoted with `""`
 * for a quote (PostgreSQL quotes a name with any character other than a letter, digit or _).
 */
function readRole(item: string, start: number): { name: string; end: number } {
  if (item[start] !== '"') {
    let end = start;
    while (end < item.length && item[end] !== '=' && item[end] !== '/') end++;
    return { name: item.slice(start, end), end };
  }
  let name = '';
  let i = start + 1;
  while (i < item.length) {
    if (item[i] === '"') {
      if (item[i + 1] !== '"') return { name, end: i + 1 };
      i++;
    }
    name += item[i];
    i++;
  }
  return { name, end: i };
}

/**
 * aclitems (`grantee=privileges/grantor`, `*` after a grantable privilege, an empty grantee
 * for PUBLIC) → grants sorted by grantee and privilege, the grantor dropped and one privilege
 * granted by several grantors merged (grantable if any grant is): aclexplode(), regrouped.
 */
function parseAcl(items: readonly string[] | null): Grant[] {
  const grants = new Map<string, Grant>();
  for (const item of items ?? []) {
    const role = readRole(item, 0);
    const grantee = role.name === '' ? 'PUBLIC' : role.name;
    for (let i = role.end + 1; i < item.length && item[i] !== '/'; i++) {
      const letter = item[i] as string;
      const grantable = item[i + 1] === '*';
      if (grantable) i++;
      const privilege = PRIVILEGES[letter] ?? letter;
      const key = `${grantee}\u0000${privilege}`;
      const existing = grants.get(key);
      if (existing) existing.grantable ||= grantable;
      else grants.set(key, { grantee, privilege, grantable });
    }
  }
  return [...grants.values()].sort(
    (a, b) => compareText(a.grantee, b.grantee) || compareText(a.privilege, b.privilege),
  );
}

/** parseAcl() remembering results: most objects share a handful of ACLs. Returns fresh copies. */
export function aclParser(): (items: readonly string[] | null) => Grant[] {
  const cache = new Map<string, Grant[]>();
  return (items) => {
    if (!items || items.length === 0) return [];
    const key = items.join('\u0000');
    let grants = cache.get(key);
    if (!grants) {
      grants = parseAcl(items);
      cache.set(key, grants);
    }
    return grants.map((grant) => ({ ...grant }));
  };
}
