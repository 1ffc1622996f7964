import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { type PlanResult, plan } from '../src/core/commands/plan.js';
import type { ConfigInput } from '../src/core/config.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../src/core/db/embedded.js';
import { MAX_TEMPLATES } from '../src/core/shadow/baseline-template.js';
import { type BaselineProductions, baselineProductions } from './harness/baseline-production.js';
import type { TestDatabase } from './harness/db.js';
import type { TestProject } from './harness/project.js';

/*
 * The shadow cache on a shadow server (--shadow-url): the baseline is a template database kept
 * on that server, and a later plan of the same production creates its shadow from it instead of
 * restoring production again, with exactly the plan a cold run gives. A template that no longer
 * reads as it was kept is dropped and rebuilt; a disposable server keeps none.
 */

let shadowServer: EmbeddedServer;
let productions: BaselineProductions;

beforeAll(async () => {
  [shadowServer, productions] = await Promise.all([
    startEmbeddedPostgres({ supabaseRoles: true }),
    baselineProductions(),
  ]);
});
afterAll(async () => {
  await Promise.all([shadowServer.stop(), productions.stop()]);
});

function config(project: TestProject, db: TestDatabase, overrides: ConfigInput = {}) {
  return project.config(db.url, { shadowUrl: shadowServer.url, shadowCache: true, ...overrides });
}

function comparable(result: PlanResult): unknown {
  const { durationMs: _duration, shadow, ...rest } = result;
  const { baseline: _baseline, ...info } = shadow ?? { baseline: undefined };
  return { ...rest, shadow: info };
}

async function onShadowServer<T>(sql: string, database = 'postgres'): Promise<T[]> {
  const client = new pg.Client({ connectionString: shadowServer.urlFor(database) });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

const templates = async () =>
  (
    await onShadowServer<{ datname: string; datallowconn: boolean }>(
      "select datname, datallowconn from pg_database where datname like 'supagate_baseline_%' order by datname",
    )
  ).map((row) => ({ name: row.datname, connections: row.datallowconn }));

describe('the shadow cache on a shadow server', () => {
  it('keeps a template nobody connects to, and creates the next shadow from it: the same plan as a cold run', async () => {
    const { db, project } = await productions.production();
    const cold = await plan(config(project, db, { shadowCache: false }));
    const first = await plan(config(project, db));
    const second = await plan(config(project, db));
    expect(cold.status).toBe('planned');
    expect([first.shadow?.baseline, second.shadow?.baseline]).toEqual(['miss', 'hit']);
    expect(comparable(first)).toEqual(comparable(cold));
    expect(comparable(second)).toEqual(comparable(cold));
    const kept = await templates();
    expect(kept).toHaveLength(1);
    expect(kept[0]?.connections).toBe(false);
  });

  it('drops and rebuilds a template that no longer reads as it was kept (tampered)', async () => {
    const { db, project } = await productions.production();
    const cold = await plan(config(project, db, { shadowCache: false }));
    expect((await plan(config(project, db))).shadow?.baseline).toBe('miss');
    const newest = (await templates()).map((t) => t.name);
    for (const name of newest) {
      await onShadowServer(`alter database ${name} allow_connections true`);
      await onShadowServer('create table public.planted (id int)', name);
      await onShadowServer(`alter database ${name} allow_connections false`);
    }
    const rebuilt = await plan(config(project, db));
    expect(rebuilt.shadow?.baseline).toBe('rebuilt');
    expect(comparable(rebuilt)).toEqual(comparable(cold));
    expect((await plan(config(project, db))).shadow?.baseline).toBe('hit');
  });

  it(`keeps the ${MAX_TEMPLATES} newest templates, and none on a disposable server`, async () => {
    for (let i = 0; i < MAX_TEMPLATES + 1; i++) {
      const { db, project } = await productions.production();
      expect((await plan(config(project, db))).shadow?.baseline).toBe('miss');
    }
    expect(await templates()).toHaveLength(MAX_TEMPLATES);
    const { db, project } = await productions.production();
    const disposable = await plan(config(project, db, { shadowDisposable: true }));
    expect(disposable.status).toBe('planned');
    expect(disposable.shadow?.baseline).toBeUndefined();
  });

  it('are listed and dropped by `supagate cache list` and `cache clear --shadow-url`', async () => {
    const { db, project } = await productions.production();
    await plan(config(project, db));
    const kept = (await templates()).length;
    expect(kept).toBeGreaterThan(0);
    const out: string[] = [];
    const io = {
      stdout: (text: string) => out.push(text),
      stderr: () => {},
      env: { SUPAGATE_SHADOW_URL: shadowServer.url },
    };
    const folder = join(tmpdir(), `supagate-empty-cache-${process.pid}`);
    expect(await runCli(['cache', 'list', '--cache-dir', folder], io)).toBe(0);
    expect(out.join('')).toContain(
      `${kept} template database${kept === 1 ? '' : 's'} kept on the shadow server.`,
    );
    expect(await runCli(['cache', 'clear', '--cache-dir', folder], io)).toBe(0);
    expect(out.at(-1)).toContain(
      `Dropped ${kept} template database${kept === 1 ? '' : 's'} on the shadow server.`,
    );
    expect(await templates()).toEqual([]);
    expect(out.join('')).not.toContain(new URL(shadowServer.url).password);
  });
});
