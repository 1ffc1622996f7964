import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetFingerprint } from '../src/core/backup/manifest.js';
import { type PlanResult, plan } from '../src/core/commands/plan.js';
import { shadowCreator } from '../src/core/commands/shadow-run.js';
import type { ConfigInput } from '../src/core/config.js';
import { startEmbeddedPostgres } from '../src/core/db/embedded.js';
import type { SchemaModel } from '../src/core/schema/model.js';
import { startEarly } from '../src/core/shadow/baseline.js';
import { type BaselineRecord, findBaseline, listBaselines } from '../src/core/shadow/baseline-store.js';
import { type BaselineProductions, baselineProductions } from './harness/baseline-production.js';
import type { TestDatabase } from './harness/db.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import type { TestProject } from './harness/project.js';

/*
 * The shadow cache (issue 14): a plan of an unchanged production starts the embedded shadow
 * from the baseline kept by the last plan instead of dumping and restoring production again,
 * and gives exactly the plan a cold run gives. A changed production, another target, and a
 * kept baseline that no longer reads as it was kept each miss; the last is removed and rebuilt.
 */

let cache: string;
let productions: BaselineProductions;
const production = () => productions.production();

beforeAll(async () => {
  cache = await mkdtemp(join(tmpdir(), 'supagate-baselines-'));
  productions = await baselineProductions();
});
afterAll(async () => {
  await productions.stop();
  await rm(cache, { recursive: true, force: true });
});

function config(project: TestProject, db: TestDatabase, overrides: ConfigInput = {}) {
  return project.config(db.url, {
    ...GATE_NEUTRAL,
    shadowUrl: undefined,
    shadowCache: true,
    cacheDir: cache,
    ...overrides,
  });
}

/** The plan without what may differ between two runs of it: its duration, and how its shadow was made. */
function comparable(result: PlanResult): unknown {
  const { durationMs: _duration, shadow, ...rest } = result;
  const { baseline: _baseline, ...info } = shadow ?? { baseline: undefined };
  return { ...rest, shadow: info };
}

describe('the shadow cache', () => {
  it('starts the second plan of an unchanged production from the kept baseline, with exactly the plan a cold run gives', async () => {
    const { db, project } = await production();
    const cold = await plan(config(project, db, { shadowCache: false }));
    const first = await plan(config(project, db));
    const second = await plan(config(project, db));
    expect(cold.status).toBe('planned');
    expect(cold.shadow?.baseline).toBeUndefined();
    expect(first.shadow?.baseline).toBe('miss');
    expect(second.shadow?.baseline).toBe('hit');
    expect(comparable(first)).toEqual(comparable(cold));
    expect(comparable(second)).toEqual(comparable(cold));
    expect(second.planHash).toBe(cold.planHash);
  });

  it('misses when production changed since, and when the target is another database', async () => {
    const { db, project } = await production();
    expect((await plan(config(project, db))).shadow?.baseline).toBe('miss');
    await db.query('create table public.audit (id bigint primary key)');
    const changed = await plan(config(project, db));
    expect(changed.shadow?.baseline).toBe('miss');
    expect(changed.diff?.changes.map((c) => c.id)).toEqual(['public.notes']);

    // The same schema in another database is another target: never its baseline.
    const { db: other, project: sameFiles } = await production();
    await other.query('create table public.audit (id bigint primary key)');
    expect((await plan(config(sameFiles, other))).shadow?.baseline).toBe('miss');
  });

  it('starts the last baseline before reading anything, and gives it back untouched when nothing is pending', async () => {
    const { db, project } = await production();
    expect((await plan(config(project, db))).shadow?.baseline).toBe('miss');
    const [entry] = await entriesFor(cache);
    const kept = await readFile(join(entry as string, 'baseline.json'), 'utf8');

    // The pending file recorded as applied: the plan ends before it needs a shadow.
    const pendingVersion = '20240201000000';
    await db.query(
      `insert into supabase_migrations.schema_migrations (version, name) values ('${pendingVersion}', 'x')`,
    );
    const none = await plan(config(project, db));
    expect(none.status).toBe('no-pending');
    // Discarded half-way or whole, never taken for a stale baseline.
    expect(await readFile(join(entry as string, 'baseline.json'), 'utf8')).toBe(kept);

    await db.query(`delete from supabase_migrations.schema_migrations where version = '${pendingVersion}'`);
    expect((await plan(config(project, db))).shadow?.baseline).toBe('hit');
  });

  it('stops copying the early start when discarded, and keeps the baseline', async () => {
    const { db, project } = await production();
    const settings = config(project, db);
    expect((await plan(settings)).shadow?.baseline).toBe('miss');
    const [entry] = await entriesFor(cache);
    const options = { root: cache, target: targetFingerprint(db.url), scope: {} };
    const early = startEarly(options, shadowCreator(settings, db.url));
    await early.discard();
    expect(await findBaseline(cache, basename(entry as string))).toBeDefined();
    // Taken, it is the caller's: discard leaves it alone.
    const taken = startEarly(options, shadowCreator(settings, db.url));
    const guessed = await taken.take();
    await taken.discard();
    expect(typeof guessed?.started).toBe('object');
    if (typeof guessed?.started === 'object') await guessed.started.shadow.dispose();
  });

  const tampering: [string, (entry: string) => Promise<void>][] = [
    ['a table planted in its cluster', (entry) => tamper(entry, 'create table public.planted (id int)')],
    [
      // A kind the schema model does not represent: only the catalogs' digest sees it.
      'a conversion planted in its cluster',
      (entry) =>
        tamper(entry, "create conversion public.planted for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8"),
    ],
    [
      'a table removed from its kept model',
      async (entry) => {
        const path = join(entry, 'model.json');
        const model = JSON.parse(await readFile(path, 'utf8')) as SchemaModel;
        expect(model.tables['public.notes']).toBeDefined();
        delete model.tables['public.notes'];
        await writeFile(path, JSON.stringify(model));
      },
    ],
  ];
  for (const [how, change] of tampering) {
    it(`rebuilds a kept baseline that is not as it was kept (${how}), and plans as a cold run does`, async () => {
      const { db, project } = await production();
      const cold = await plan(config(project, db, { shadowCache: false }));
      expect((await plan(config(project, db))).shadow?.baseline).toBe('miss');
      const [entry] = await entriesFor(cache);
      await change(entry as string);

      const rebuilt = await plan(config(project, db));
      expect(rebuilt.shadow?.baseline).toBe('rebuilt');
      expect(comparable(rebuilt)).toEqual(comparable(cold));
      // The rebuilt baseline is kept in its place, and serves the next plan.
      expect((await plan(config(project, db))).shadow?.baseline).toBe('hit');
    });
  }

  it('rebuilds a baseline whose data directory is damaged, or holds a symbolic link', async () => {
    const { db, project } = await production();
    expect((await plan(config(project, db))).shadow?.baseline).toBe('miss');
    const [entry] = await entriesFor(cache);
    await rm(join(entry as string, 'data', 'global', 'pg_control'));
    expect((await plan(config(project, db))).shadow?.baseline).toBe('rebuilt');

    // A link would have the shadow server write wherever it points.
    const [rebuilt] = await entriesFor(cache);
    const outside = join(cache, 'outside');
    await mkdir(outside);
    await symlink(outside, join(rebuilt as string, 'data', 'pg_tblspc', 'planted'));
    expect((await plan(config(project, db))).shadow?.baseline).toBe('rebuilt');
    expect(await readdir(outside)).toEqual([]);
  });
});

/** The cache's entry folders, newest first. */
async function entriesFor(root: string): Promise<string[]> {
  const listed = await listBaselines(root);
  listed.sort((a, b) => b.usedAt - a.usedAt);
  return listed.map((entry) => join(root, 'shadow-baselines', entry.key));
}

/** Runs `sql` in the kept baseline's database, as someone with the cache folder could, keeping its record. */
async function tamper(entry: string, sql: string): Promise<void> {
  const record = JSON.parse(await readFile(join(entry, 'baseline.json'), 'utf8')) as BaselineRecord;
  const server = await startEmbeddedPostgres({
    supabaseRoles: true,
    dataDirectory: { path: join(entry, 'data'), password: record.password },
  });
  const password = decodeURIComponent(new URL(server.url).password);
  try {
    const client = new pg.Client({ connectionString: server.urlFor(record.database) });
    await client.connect();
    await client.query(sql).finally(() => client.end());
    const changed = join(entry, 'changed');
    await server.saveDataDirectory(changed);
    await rm(join(entry, 'data'), { recursive: true });
    await rename(changed, join(entry, 'data'));
  } finally {
    await server.stop();
  }
  // The copy's superuser has the password of the server that changed it: the record says so,
  // so that only the content differs from what was kept.
  await writeFile(join(entry, 'baseline.json'), JSON.stringify({ ...record, password }));
}
