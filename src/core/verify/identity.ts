import { qualifiedName, splitIdentity } from '../sql/identifiers.js';

/**
 * Table names as users write them (config file, options) → the model's identity format
 * (`public.posts`, `public."Order"`), so that they compare equal to the keys of counts, probes
 * and models.
 *
 * Names are taken literally, case included: `public.Order` and `public."Order"` are the same
 * table (the one PostgreSQL lists as `Order`); quotes are only needed for a name containing a
 * dot. A name without a schema is in `public`. Returns null for anything that is not one or two
 * non-empty parts.
 */
export function tableIdentity(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const parts = splitIdentity(trimmed);
  if (parts.some((part) => part === '')) return null;
  if (parts.length === 1) return qualifiedName('public', parts[0] as string);
  if (parts.length === 2) return qualifiedName(parts[0] as string, parts[1] as string);
  return null;
}

/** tableIdentity(), keeping text it cannot read as it was (it then matches nothing). */
export function normalizeTable(text: string): string {
  return tableIdentity(text) ?? text;
}

/** A table identity as SQL, every part double-quoted: safe whatever the identity holds. */
export function quotedTableSql(identity: string): string {
  const parts = splitIdentity(identity);
  return parts.map((part) => `"${part.replace(/"/g, '""')}"`).join('.');
}
