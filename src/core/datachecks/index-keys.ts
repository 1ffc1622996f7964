import { parseSync } from '../migrations/parser.js';
import { quoteIdentifier } from '../sql/quote.js';
import { type ColumnResolver, rebuildExpression } from './check-expression.js';

/**
 * What a unique index compares, rebuilt for a count on production: each key (a column, or an
 * expression such as `lower(email)`) and the partial index's predicate, written by supagate
 * from `pg_get_indexdef`'s parse tree with the CHECK rebuilder's whitelist (the index is the
 * pull request's: promise 1). Keys with a collation or an operator class of their own are
 * refused: equality there may not be the type's.
 */
export type UniqueKeys =
  | {
      /** One SQL expression per key, over production's column names (unqualified). */
      keys: string[];
      /** Production's columns the keys and the predicate read. */
      columns: string[];
      /** The partial index's predicate, rebuilt. */
      where?: string;
    }
  | { refused: string };

type Node = Record<string, unknown>;

export function uniqueKeys(definition: string, resolve: ColumnResolver): UniqueKeys {
  let stmt: Node | undefined;
  try {
    const parsed = parseSync(definition) as { stmts?: { stmt?: { IndexStmt?: Node } }[] };
    stmt = parsed.stmts?.length === 1 ? parsed.stmts[0]?.stmt?.IndexStmt : undefined;
  } catch {
    stmt = undefined;
  }
  if (!stmt) return { refused: "the index's definition could not be read" };
  const columns = new Set<string>();
  const keys: string[] = [];
  for (const param of (stmt.indexParams as { IndexElem?: Node }[] | undefined) ?? []) {
    const element = param.IndexElem;
    if (!element) return { refused: 'the index has a key supagate does not read' };
    if (element.collation !== undefined || element.opclass !== undefined)
      return {
        refused:
          'the index has a key with a collation or an operator class of its own, whose equality supagate does not assume',
      };
    const key = keyOf(element, resolve);
    if ('refused' in key) return key;
    keys.push(key.sql);
    for (const column of key.columns) columns.add(column);
  }
  if (keys.length === 0) return { refused: 'the index has no keys' };
  if (stmt.whereClause === undefined) return { keys, columns: [...columns] };
  const where = rebuildExpression(stmt.whereClause, resolve);
  if ('refused' in where) return where;
  for (const column of where.columns) columns.add(column);
  return { keys, columns: [...columns], where: where.sql };
}

function keyOf(
  element: Node,
  resolve: ColumnResolver,
): { sql: string; columns: string[] } | { refused: string } {
  if (typeof element.name === 'string') {
    const source = resolve(element.name);
    if (!source || !('column' in source))
      return { refused: `the index's column ${element.name} is not production's` };
    return { sql: quoteIdentifier(source.column), columns: [source.column] };
  }
  return rebuildExpression(element.expr, resolve);
}
