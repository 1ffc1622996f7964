import { afterAll, expect } from 'vitest';
import { connect, disconnect } from '../../src/core/db/connect.js';
import type { ObjectChange, ObjectKind } from '../../src/core/schema/changes.js';
import { diffSchemas } from '../../src/core/schema/diff.js';
import { introspect } from '../../src/core/schema/introspect.js';
import type { SchemaModel } from '../../src/core/schema/model.js';
import { createTestDatabase, type TestDatabase } from './db.js';

/**
 * The diff's convergence check, read from real databases: "before" (`setup`), "after"
 * (`setup` + `change`), diffed; then `change` applied to "before" for real must re-diff empty
 * against "after", and (where `recreate` is given) the object dropped from "before" and
 * re-created from the normalized DDL of "after" must re-diff empty too.
 *
 * Call `convergeHarness()` once at a test file's top level: its databases are dropped after
 * the file.
 */
export interface ConvergeCase {
  setup: string;
  change: string;
  /** Drops the changed object from "before" (nothing to drop: ''), to re-create it from its DDL "after". */
  recreate?: { kind: ObjectKind; id: string; drop: string };
}

export interface ConvergeResult {
  changes: ObjectChange[];
  before: SchemaModel;
  after: SchemaModel;
}

export interface ConvergeHarness {
  /** A fresh database with `sql` run in it, dropped after the file. */
  database(sql: string): Promise<TestDatabase>;
  read(db: TestDatabase): Promise<SchemaModel>;
  diffCase(spec: ConvergeCase): Promise<ConvergeResult>;
}

export function convergeHarness(): ConvergeHarness {
  const created: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(created.map((db) => db.drop()));
  });
  const database = async (sql: string) => {
    const db = await createTestDatabase();
    created.push(db);
    if (sql) await db.query(sql);
    return db;
  };
  const diffCase = async (spec: ConvergeCase): Promise<ConvergeResult> => {
    const [a, b] = await Promise.all([database(spec.setup), database(`${spec.setup}\n${spec.change}`)]);
    const [before, after] = await Promise.all([read(a), read(b)]);
    const { changes } = diffSchemas(before, after);

    // Converges: the change applied for real.
    await a.query(spec.change);
    expect(diffSchemas(await read(a), after).changes).toEqual([]);

    // Converges: the normalized DDL of the object after, applied to "before".
    const recreate = spec.recreate;
    if (recreate) {
      const isIt = (c: ObjectChange) => c.kind === recreate.kind && c.id === recreate.id;
      const ddl = changes.find(isIt)?.ddl.after;
      expect(ddl, JSON.stringify(changes, null, 1)).toBeTruthy();
      const c = await database(spec.setup);
      if (recreate.drop) await c.query(recreate.drop);
      await c.query(ddl as string);
      expect(diffSchemas(await read(c), after).changes.filter(isIt), ddl as string).toEqual([]);
    }
    return { changes, before, after };
  };
  return { database, read, diffCase };
}

export async function read(db: TestDatabase): Promise<SchemaModel> {
  const connection = await connect(db.url, { readOnly: true });
  try {
    return await introspect(connection.client);
  } finally {
    await disconnect(connection);
  }
}

/** The one change of `id`; fails, showing them all, when there is not exactly one. */
export function only(changes: ObjectChange[], id: string): ObjectChange {
  const found = changes.filter((c) => c.id === id);
  expect(found, JSON.stringify(changes, null, 1)).toHaveLength(1);
  return found[0] as ObjectChange;
}
