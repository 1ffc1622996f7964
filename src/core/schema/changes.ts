import type { CatalogObjectKind } from './kinds/catalog-kind.js';

/**
 * The typed result of diffing two SchemaModels: what the pending migrations change.
 * Two levels: top-level objects (a table, a view, a function…) and, inside tables and views,
 * their members (columns, constraints, indexes, triggers, policies).
 */

export type ObjectKind =
  | 'schema'
  | 'extension'
  | 'foreign data wrapper'
  | 'foreign server'
  | 'user mapping'
  | 'collation'
  | 'type'
  | 'sequence'
  | 'table'
  | 'foreign table'
  | 'view'
  | 'materialized view'
  | 'function'
  | 'event trigger'
  | CatalogObjectKind
  | 'default privileges'
  | 'publication'
  | 'cron job'
  | 'bucket';

export type MemberKind = 'column' | 'constraint' | 'index' | 'trigger' | 'rule' | 'policy';

export type ChangeAction = 'added' | 'removed' | 'changed' | 'renamed';

/** One attribute that differs: `type` integer → bigint, `using` …, `grants` [...] → [...]. */
export interface AttributeChange {
  attribute: string;
  before: unknown;
  after: unknown;
}

export interface MemberChange {
  kind: MemberKind;
  name: string;
  action: ChangeAction;
  /** For renames: the old name (the new one is `name`). */
  renamedFrom?: string;
  /** For changed and renamed members: what else differs. */
  attributes: AttributeChange[];
  /**
   * A column added or removed that the table only inherits (INHERITS): the parents it comes
   * from, where it was added or dropped. Not the table's own addition or drop.
   */
  inheritedFrom?: string[];
}

export interface ObjectChange {
  kind: ObjectKind;
  /** The identity in the model (`public.posts`, `public.is_admin(uuid)`, `supabase_realtime`). */
  id: string;
  action: ChangeAction;
  renamedFrom?: string;
  /** Attributes of the object itself (RLS flags, owner, grants, comment, definition…). */
  attributes: AttributeChange[];
  /** Column, constraint, index, trigger, rule and policy changes of a table or view. */
  members: MemberChange[];
  /** Normalized DDL of the object before and after, and their unified diff. */
  ddl: { before: string | null; after: string | null; diff: string | null };
}

export interface SchemaDiff {
  /** Ordered by kind (in the order above), then identity. */
  changes: ObjectChange[];
}

/** What the migrations' own statements say was renamed: recognized instead of drop + add. */
export interface RenameHints {
  /** New table (or view) identity → old identity. */
  relations: Record<string, string>;
  /** Table identity (after any rename) → new column name → old column name. */
  columns: Record<string, Record<string, string>>;
}
