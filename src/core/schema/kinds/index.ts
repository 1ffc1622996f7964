import { castKind } from './casts.js';
import type { CatalogKind } from './catalog-kind.js';
import { extendedStatisticsKind } from './extended-statistics.js';
import { operatorClassKind, operatorFamilyKind } from './operator-families.js';
import { operatorKind } from './operators.js';
import { textSearchConfigurations, textSearchDictionaries } from './text-search.js';

/**
 * Every catalog kind (catalog-kind.ts), in report order. A new kind's module adds its entry
 * here; introspect, diff and ddl read this list.
 */
// biome-ignore lint/suspicious/noExplicitAny: each entry has its own row and object types.
export const CATALOG_KINDS: readonly CatalogKind<any, any>[] = [
  operatorKind,
  operatorFamilyKind,
  operatorClassKind,
  castKind,
  textSearchDictionaries,
  textSearchConfigurations,
  extendedStatisticsKind,
];
