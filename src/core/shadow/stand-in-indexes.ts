import { VECTOR_INDEX_METHODS } from '../db/stand-ins/vector.js';
import type { Migration } from '../migrations/model.js';
import type { SchemaModel } from '../schema/model.js';
import { withoutStorageParameters } from '../sql/storage-parameters.js';

/**
 * The stand-in for pgvector builds its `hnsw` and `ivfflat` indexes as hash indexes, which take
 * none of pgvector's storage parameters (`WITH (lists = 100)`, `WITH (m = 16)`). On a shadow
 * with that stand-in, such an index is created without them: in the copy of production, in the
 * migrations, and the shadow's models are given production's definitions back where the index
 * is the same but for them, so that they never show as a change or as drift.
 */
const METHODS = new Set<string>(VECTOR_INDEX_METHODS);

/**
 * Index statements of the migration on a stand-in method, without their storage parameters
 * (each keeps its index, line and offset, so failures still point at the right file:line),
 * and the `path:line` of each one changed.
 */
export function withoutStandInIndexParameters(
  migration: Migration,
  offered: Set<string>,
): { migration: Migration; changed: string[] } {
  if (!offered.has('vector')) return { migration, changed: [] };
  const changed: string[] = [];
  const statements = migration.statements.map((statement) => {
    const method = statement.nodeType === 'IndexStmt' ? statement.tree.accessMethod : undefined;
    if (typeof method !== 'string' || !METHODS.has(method)) return statement;
    const sql = withoutStorageParameters(statement.sql);
    if (!sql) return statement;
    changed.push(`${migration.path}:${statement.line}`);
    return { ...statement, sql };
  });
  return changed.length === 0 ? { migration, changed } : { migration: { ...migration, statements }, changed };
}

/** The shadow's model, with production's definition for each index that differs from it only by storage parameters. */
export function withProductionIndexParameters(
  model: SchemaModel,
  production: SchemaModel,
  offered: Set<string>,
): SchemaModel {
  if (!offered.has('vector')) return model;
  const method = new RegExp(` USING (${[...METHODS].join('|')}) `);
  let changed = false;
  const tables = { ...model.tables };
  for (const [id, table] of Object.entries(model.tables)) {
    const real = production.tables[id];
    if (!real) continue;
    let tableChanged = false;
    const indexes = { ...table.indexes };
    for (const [name, index] of Object.entries(table.indexes)) {
      const other = real.indexes[name];
      if (!other || other.definition === index.definition || !method.test(index.definition)) continue;
      if (withoutStorageParameters(other.definition) !== index.definition) continue;
      indexes[name] = { ...index, definition: other.definition };
      tableChanged = true;
    }
    if (!tableChanged) continue;
    tables[id] = { ...table, indexes };
    changed = true;
  }
  return changed ? { ...model, tables } : model;
}
