import type { SchemaModel } from '../model.js';
import type { ForeignTable } from '../model-foreign.js';
import { API_ROLES, holds, isManagedSchema, type LintContext, sortedEntries } from './util.js';

/** What foreign_table_in_api reads of a foreign table: its schema, name and grants. */
export type ForeignTableLike = Pick<ForeignTable, 'schema' | 'name' | 'grants'>;

export function foreignTablesOf(model: SchemaModel): Record<string, ForeignTableLike> {
  return model.foreignTables ?? {};
}

/**
 * foreign_table_in_api: a foreign table in an API schema that anon or authenticated can SELECT.
 * Foreign tables have no row level security, so the Data API serves every row the remote
 * server returns. The advisor also skips foreign tables owned by an extension, which the model
 * does not tell (extension-owned objects are not read as user objects).
 */
export function lintForeignTables({ model, api, add }: LintContext): void {
  for (const [id, table] of sortedEntries(foreignTablesOf(model))) {
    if (!api.has(table.schema) || isManagedSchema(table.schema)) continue;
    const selectable = API_ROLES.filter((role) => holds(table.grants, role, 'SELECT'));
    if (selectable.length === 0) continue;
    add(
      'foreign_table_in_api',
      id,
      `Foreign table ${id} is in the API schema ${table.schema} and ${selectable.join(' and ')} can read it; foreign tables have no row level security, so the Data API serves every row the remote server returns`,
      `REVOKE SELECT ON ${id} FROM anon, authenticated, or move it to a schema that is not exposed (and expose what is needed through a security_invoker view or a function)`,
    );
  }
}
