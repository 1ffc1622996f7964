import type { CatalogKind } from './catalog-kind.js';

/**
 * Every catalog kind (catalog-kind.ts), in report order. A new kind's module adds its entry
 * here; introspect, diff and ddl read this list.
 */
// biome-ignore lint/suspicious/noExplicitAny: each entry has its own row and object types.
export const CATALOG_KINDS: readonly CatalogKind<any, any>[] = [];
