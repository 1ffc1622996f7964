import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/core/commands/apply.js';
import { drift } from '../src/core/commands/drift.js';
import { plan } from '../src/core/commands/plan.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/**
 * pgvector's index storage parameters on the embedded shadow, whose pgvector is a stand-in that
 * builds hnsw and ivfflat indexes without them. Production here is the tests' server, whose
 * pgvector is the stand-in too: an index built there by real pgvector, with `lists = 100`, is
 * made by setting the parameters in the catalog, as real pgvector stores them.
 */
let db: TestDatabase;
let project: TestProject;

beforeEach(async () => {
  db = await createTestDatabase();
  project = await createProject(
    migrations({
      '1_docs': `create extension if not exists vector with schema extensions;
create table public.docs (id bigint primary key, embedding extensions.vector(3));
create index docs_embedding_ivfflat on public.docs using ivfflat (embedding extensions.vector_cosine_ops);`,
    }),
  );
  expect((await apply(project.config(db.url, GATE_NEUTRAL))).status).toBe('applied');
  await db.query(`UPDATE pg_class SET reloptions = '{lists=100}' WHERE relname = 'docs_embedding_ivfflat'`);
});
afterEach(async () => {
  await project.cleanup();
  await db.drop();
});

describe('vector indexes with storage parameters on the stand-in', () => {
  it('copies production’s index without them, and plans a new one, saying so', async () => {
    const [index] = await db.query<{ def: string }>(
      `SELECT pg_get_indexdef('public.docs_embedding_ivfflat'::regclass) AS def`,
    );
    expect(index?.def).toContain("WITH (lists='100')");
    await project.write(
      'supabase/migrations/2_hnsw.sql',
      'alter table public.docs add column title text;\ncreate index docs_embedding_hnsw on public.docs using hnsw (embedding extensions.vector_l2_ops) with (m = 16, ef_construction = 64);',
    );
    const result = await plan(project.config(db.url, GATE_NEUTRAL));
    expect(result.failure, JSON.stringify(result.failure)).toBeUndefined();
    expect(result.status).toBe('planned');
    expect(JSON.stringify(result.diff)).toContain('docs_embedding_hnsw');
    expect(result.shadow.warnings).toContain(
      'built without its storage parameters on the stand-in for pgvector: supabase/migrations/2_hnsw.sql:2 (an hnsw or ivfflat index)',
    );
    // The copy is production but for the parameters, which are not a difference.
    expect(result.shadow.warnings.filter((w) => w.includes('differs from production'))).toEqual([]);
    expect(result.shadow.standIns.map((s) => s.name)).toEqual(['vector']);
  });

  it('does not report them as drift', async () => {
    const result = await drift(project.config(db.url, GATE_NEUTRAL));
    expect(result.failure, JSON.stringify(result.failure)).toBeUndefined();
    expect(result.diff.changes).toEqual([]);
    expect(result.status).toBe('in-sync');
  });

  it('still reports any other difference of such an index', async () => {
    await db.query(
      `DROP INDEX public.docs_embedding_ivfflat;
       CREATE INDEX docs_embedding_ivfflat ON public.docs USING ivfflat (embedding extensions.vector_l2_ops);
       UPDATE pg_class SET reloptions = '{lists=100}' WHERE relname = 'docs_embedding_ivfflat'`,
    );
    const result = await drift(project.config(db.url, GATE_NEUTRAL));
    expect(result.status).toBe('drifted');
    expect(result.diff.changes.map((c) => c.id)).toEqual(['public.docs']);
  });
});
