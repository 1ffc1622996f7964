import type { Cast } from './casts.js';
import type { ExtendedStatistics } from './extended-statistics.js';
import type { OperatorClass, OperatorFamily } from './operator-families.js';
import type { Operator } from './operators.js';
import type { TextSearchConfiguration, TextSearchDictionary } from './text-search.js';

/*
 * A catalog kind: a kind of standalone object (no members of its own, such as columns) that
 * the model keeps in one optional record of SchemaModel. Each is defined once, in a module of
 * this folder, by what introspect, diff and ddl need to know about it; kinds/index.ts lists them
 * and those three read the list, so adding a kind touches none of them.
 */

/** What a kind's catalog query is built from (round trip 2 of introspect()). */
export interface CatalogScope {
  /** A SQL subquery selecting the oids of the user schemas. */
  userSchemas: string;
  /** A SQL text[] literal of the managed schema names. */
  managedSchemas: string;
  /** server_version_num. */
  serverVersion: number;
  /** The connection's literal quoting (client.escapeLiteral). */
  literal(value: string): string;
}

export interface CatalogKind<Row = never, T = unknown> {
  /** The ObjectKind its changes are reported as (`operator`, `cast`…). */
  kind: CatalogObjectKind;
  /** The optional SchemaModel record it fills. */
  key: CatalogKey;
  /**
   * One set-based query, run in introspect()'s read-only transaction with
   * `search_path = pg_catalog` (deparsed names are schema-qualified outside pg_catalog).
   */
  query(scope: CatalogScope): string;
  /** The rows → the record, keyed by identity, keys sorted (introspect-sql.ts sortedRecord). */
  assemble(rows: Row[]): Record<string, T>;
  /** Normalized DDL of one object (see ddl.ts objectDdl). */
  ddl(object: T, serverVersion: number): string;
  /** Attributes that are the identity, or otherwise never a change. */
  identity: ReadonlySet<string>;
  /**
   * What an optional attribute absent from the model means (see model.ts): reported from or to
   * this value when it appears or goes.
   */
  defaults?: Readonly<Record<string, unknown>>;
}

/** The ObjectKinds of the catalog kinds, in report order. */
export const CATALOG_OBJECT_KINDS = [
  'operator',
  'operator family',
  'operator class',
  'cast',
  'text search dictionary',
  'text search configuration',
  'extended statistics',
] as const;
export type CatalogObjectKind = (typeof CATALOG_OBJECT_KINDS)[number];

/**
 * The object type of each catalog kind's SchemaModel record (each defined in its kind's module).
 * `unknown` marks a kind whose module is not written yet.
 */
export interface CatalogObjects {
  operators: Operator;
  operatorFamilies: OperatorFamily;
  operatorClasses: OperatorClass;
  casts: Cast;
  textSearchDictionaries: TextSearchDictionary;
  textSearchConfigurations: TextSearchConfiguration;
  extendedStatistics: ExtendedStatistics;
}

/** The SchemaModel records the catalog kinds fill. */
export type CatalogKey = keyof CatalogObjects;

/**
 * The catalog kinds' records of SchemaModel. Optional: a model read before a kind existed has
 * none, and the diff reads an absent record as empty.
 */
export type CatalogRecords = { [K in CatalogKey]?: Record<string, CatalogObjects[K]> };
