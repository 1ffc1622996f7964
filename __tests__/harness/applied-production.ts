import { apply } from '../../src/core/commands/apply.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { createProject, migrations, type TestProject } from './project.js';

/**
 * A production made by supagate itself: a fresh test database with `sql` applied as migration
 * `1_production`, so that its history has it and a project holding the same file plans only
 * what is added to it.
 */
export async function appliedProduction(sql: string): Promise<TestDatabase> {
  const db = await createTestDatabase();
  const project = await createProject(migrations({ '1_production': sql }));
  try {
    const applied = await apply(project.config(db.url));
    if (applied.status !== 'applied') throw new Error(`production not set up: ${JSON.stringify(applied)}`);
  } finally {
    await project.cleanup();
  }
  return db;
}

/** A project with that production's file and `files` (`{ '2_change': sql }`), for one plan. */
export async function withPending<T>(
  productionSql: string,
  files: Record<string, string>,
  work: (project: TestProject) => Promise<T>,
): Promise<T> {
  const project = await createProject(migrations({ '1_production': productionSql, ...files }));
  try {
    return await work(project);
  } finally {
    await project.cleanup();
  }
}
