/**
 * Benchmark: `plan()` cold and warm against its floor, at N tables, for the embedded shadow and
 * for a shadow server (`shadowUrl`).
 *
 *   npx tsx bench/plan.bench.ts [--sizes 100,500,1000,2000] [--reps 3] [--budget 60]
 *                               [--timeout 600] [--out FILE]
 *
 * Two embedded PostgreSQL servers for the whole run: production, and a server with Supabase's
 * roles that is the shadow server of the `shadowUrl` plans and where the floor restores. For
 * each N, production = Supabase bootstrap + the generated schema (bench/schema-generator.ts)
 * applied with `supagate apply` (so its history is right), and the pending migration is a file
 * of the project. Every measurement is a child process (bench/measure-one.ts): one warm-up,
 * then --reps timed runs (fewer when a run is long, to fit --budget seconds), median shown.
 * - floor (bench/floor.ts): pg_dump --schema-only -Fc + pg_restore --single-transaction into a
 *   new database + the migration + 2 introspections;
 * - embedded cold: shadow cache off; miss: cache on, an empty cache folder each run;
 * - embedded warm: cache on, after a plan of the same production with the same folder (a hit);
 * - server cold: `shadowUrl`, cache off; server warm: cache on, shown only if every timed run's
 *   `shadow.baseline` is `hit` (supagate keeps a shadow server's baseline as a template database).
 * supagate's plan is measured as shipped, from dist/lib.js (npm run bench checks that it is
 * built from the sources). Prints the markdown section on stdout (and writes it to --out). Not a test.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apply } from '../src/core/commands/apply.js';
import { resolveConfig } from '../src/core/config.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../src/core/db/embedded.js';
import {
  fmtMs,
  linearity,
  measureChild,
  median,
  ROOT,
  type Series,
  summary,
  withClient,
} from './plan-lib.js';
import { generate } from './schema-generator.js';

interface Options {
  sizes: number[];
  reps: number;
  budgetS: number;
  timeoutS: number;
  out: string | null;
}

type Kind = 'floor' | 'embeddedCold' | 'embeddedMiss' | 'embeddedWarm' | 'serverCold' | 'serverWarm';

interface SizeResult {
  n: number;
  setupMs: number;
  series: Partial<Record<Kind, Series>>;
}

const SCHEMA_MIGRATION = 'supabase/migrations/20240101000000_benchmark_schema.sql';
const PENDING_MIGRATION = 'supabase/migrations/20240102000000_pending_changes.sql';

function parseOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index === -1 ? undefined : argv[index + 1];
  };
  const known = new Set(['--sizes', '--reps', '--budget', '--timeout', '--out']);
  for (const arg of argv)
    if (arg.startsWith('--') && !known.has(arg)) throw new Error(`Unknown option ${arg}`);
  const sizes = (value('--sizes') ?? '100,500,1000,2000').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 10)) throw new Error('--sizes: whole numbers ≥ 10');
  return {
    sizes,
    reps: Math.max(1, Number(value('--reps') ?? 3)),
    budgetS: Number(value('--budget') ?? 60),
    timeoutS: Number(value('--timeout') ?? 600),
    out: value('--out') ?? null,
  };
}

/** Production of N tables, its history right: the schema applied as a migration by supagate. */
async function setUp(prod: EmbeddedServer, shadowServer: EmbeddedServer, n: number, project: string) {
  const generated = generate(n);
  const db = `plan_bench_${n}`;
  const bootstrap = await readFile(join(ROOT, '__fixtures__/supabase-bootstrap.sql'), 'utf8');
  await withClient(prod.url, (c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
  await withClient(prod.url, (c) => c.query(`CREATE DATABASE ${db}`));
  await withClient(prod.urlFor(db), (c) => c.query(bootstrap));
  await mkdir(join(project, 'supabase/migrations'), { recursive: true });
  await writeFile(join(project, SCHEMA_MIGRATION), generated.schemaSql);
  const applied = await apply(
    resolveConfig({
      projectDir: project,
      dbUrl: prod.urlFor(db),
      shadowUrl: shadowServer.url,
      shadowCache: false,
      detectLocalSupabase: false,
      backup: 'off',
      verify: 'off',
      actor: 'bench',
    }),
  );
  if (applied.status !== 'applied') {
    throw new Error(`apply of the ${n}-table schema: ${applied.status} ${applied.failure?.message ?? ''}`);
  }
  await writeFile(join(project, PENDING_MIGRATION), generated.pendingSql);
  return { db, url: prod.urlFor(db) };
}

async function runSize(
  prod: EmbeddedServer,
  shadowServer: EmbeddedServer,
  n: number,
  options: Options,
  scratch: string,
): Promise<SizeResult> {
  console.error(`\nN = ${n}`);
  const project = await mkdtemp(join(scratch, `project-${n}-`));
  const started = performance.now();
  const { db, url } = await setUp(prod, shadowServer, n, project);
  const setupMs = performance.now() - started;
  console.error(`  production set up (supagate apply) in ${fmtMs(setupMs)} ms`);
  const label = `N=${n}`;
  const budget = { reps: options.reps, budgetS: options.budgetS, timeoutS: options.timeoutS };
  const base = { BENCH_PROJECT_DIR: project, BENCH_DB_URL: url };
  const series: SizeResult['series'] = {};
  try {
    let floorRun = 0;
    series.floor = await summary('floor', label, budget, async () => {
      const name = `floor_${n}_${floorRun++}`;
      const env = {
        BENCH_DB_URL: url,
        BENCH_FLOOR_SERVER_URL: shadowServer.url,
        BENCH_FLOOR_DB: name,
        BENCH_PENDING_FILE: join(project, PENDING_MIGRATION),
      };
      try {
        return await measureChild('floor', env, options.timeoutS);
      } finally {
        await withClient(shadowServer.url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      }
    });
    const embedded = { ...base, BENCH_SHADOW_URL: '' };
    series.embeddedCold = await summary('embedded cold', label, budget, () =>
      measureChild('plan', { ...embedded, BENCH_SHADOW_CACHE: '0' }, options.timeoutS),
    );
    let missRun = 0;
    series.embeddedMiss = await summary('embedded miss', label, budget, async () => {
      const cacheDir = join(scratch, `miss-${n}-${missRun++}`);
      try {
        return await measureChild(
          'plan',
          { ...embedded, BENCH_SHADOW_CACHE: '1', BENCH_CACHE_DIR: cacheDir },
          options.timeoutS,
        );
      } finally {
        await rm(cacheDir, { recursive: true, force: true });
      }
    });
    // The warm-up of the warm series is the plan that keeps the baseline (a miss).
    const warmDir = join(scratch, `warm-${n}`);
    const warmEnv = { ...embedded, BENCH_SHADOW_CACHE: '1', BENCH_CACHE_DIR: warmDir };
    series.embeddedWarm = await summary('embedded warm', label, budget, () =>
      measureChild('plan', warmEnv, options.timeoutS),
    );
    await rm(warmDir, { recursive: true, force: true });
    const server = { ...base, BENCH_SHADOW_URL: shadowServer.url };
    series.serverCold = await summary('server cold', label, budget, () =>
      measureChild('plan', { ...server, BENCH_SHADOW_CACHE: '0' }, options.timeoutS),
    );
    // With the cache on, as for the embedded shadow; shown as warm only if every run is a hit.
    const serverDir = join(scratch, `server-${n}`);
    const serverWarm = { ...server, BENCH_SHADOW_CACHE: '1', BENCH_CACHE_DIR: serverDir };
    series.serverWarm = await summary('server warm', label, budget, () =>
      measureChild('plan', serverWarm, options.timeoutS),
    );
    await rm(serverDir, { recursive: true, force: true });
  } finally {
    await withClient(prod.url, (c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)).catch(() => {});
    await rm(project, { recursive: true, force: true });
  }
  return { n, setupMs, series };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const msOf = (s: Series | undefined) =>
  s && !s.failure && s.runs.length ? median(s.runs.map((r) => r.ms)) : null;
const mbOf = (s: Series | undefined) =>
  s && !s.failure && s.runs.length ? median(s.runs.map((r) => r.peakMB)).toFixed(0) : '—';
const baselines = (s: Series | undefined) => (s ? s.runs.map((r) => String(r.detail?.baseline ?? '?')) : []);
const isHit = (s: Series | undefined) => {
  const seen = baselines(s);
  return seen.length > 0 && seen.every((b) => b === 'hit');
};

function msCell(s: Series | undefined): string {
  if (!s) return '—';
  if (s.failure) return s.failure.startsWith('timed out') ? 'timeout' : 'failed';
  const ms = msOf(s);
  return ms === null ? '—' : fmtMs(ms);
}

function ratio(s: Series | undefined, floor: Series | undefined): string {
  const a = msOf(s);
  const b = msOf(floor);
  return a === null || b === null ? '—' : `${(a / b).toFixed(2)}×`;
}

function embeddedTable(results: SizeResult[]): string[] {
  const rows = results.map(({ n, series: s }) => {
    const warm = isHit(s.embeddedWarm) ? s.embeddedWarm : undefined;
    const hits = `${baselines(s.embeddedWarm).filter((b) => b === 'hit').length}/${baselines(s.embeddedWarm).length}`;
    return `| ${n} | ${msCell(s.floor)} | ${mbOf(s.floor)} | ${msCell(s.embeddedCold)} | ${ratio(s.embeddedCold, s.floor)} | ${mbOf(s.embeddedCold)} | ${msCell(s.embeddedMiss)} | ${ratio(s.embeddedMiss, s.floor)} | ${warm ? msCell(warm) : `not a hit: ${msCell(s.embeddedWarm)}`} | ${ratio(warm, s.floor)} | ${mbOf(warm)} | ${hits} |`;
  });
  return [
    '| N | floor ms | floor peak MB | cold ms | cold × floor | cold peak MB | miss ms | miss × floor | warm (hit) ms | warm × floor | warm peak MB | warm runs that were hits |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    linearityRow(results, ['floor', 'embeddedCold', 'embeddedMiss', 'embeddedWarm'], [1, 3, 6, 8], 12),
  ];
}

function serverTable(results: SizeResult[]): string[] {
  const rows = results.map(({ n, series: s }) => {
    const warm = isHit(s.serverWarm) ? s.serverWarm : undefined;
    const seen = baselines(s.serverWarm);
    const hits = seen.filter((b) => b === 'hit').length;
    const warmup = s.serverWarm?.warmup?.detail?.baseline ?? '—';
    return `| ${n} | ${msCell(s.floor)} | ${msCell(s.serverCold)} | ${ratio(s.serverCold, s.floor)} | ${mbOf(s.serverCold)} | ${warm ? msCell(warm) : '—'} | ${warm ? ratio(warm, s.floor) : '—'} | ${mbOf(warm)} | ${warmup}; then ${hits}/${seen.length} hits (${[...new Set(seen)].join(', ') || '—'}) |`;
  });
  return [
    '| N | floor ms | cold ms | cold × floor | cold peak MB | warm ms | warm × floor | warm peak MB | `shadow.baseline` with the cache on: first plan; then |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    linearityRow(results, ['floor', 'serverCold', 'serverWarm'], [1, 2, 5], 9),
  ];
}

/** A last row: under each time column (index `columns[i]` of `width`), whether it grows linearly in N. */
function linearityRow(results: SizeResult[], kinds: Kind[], columns: number[], width: number): string {
  const cells = Array.from({ length: width }, () => '');
  cells[0] = 'linear in N?';
  kinds.forEach((kind, i) => {
    const points = results.flatMap((r) => {
      const ms = msOf(r.series[kind]);
      return ms === null ? [] : [{ n: r.n, ms }];
    });
    cells[columns[i] as number] = linearity(points);
  });
  return `| ${cells.join(' | ')} |`;
}

function details(results: SizeResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    out.push(`- N = ${r.n}: production set up with supagate apply in ${fmtMs(r.setupMs)} ms`);
    for (const [kind, s] of Object.entries(r.series)) {
      const runs = s.runs
        .map(
          (x) =>
            `${fmtMs(x.ms)} ms / ${x.peakMB.toFixed(0)} MB${x.detail?.baseline ? ` (${x.detail.baseline})` : ''}`,
        )
        .join(', ');
      const warm = s.warmup
        ? `warm-up ${fmtMs(s.warmup.ms)} ms${s.warmup.detail?.baseline ? ` (${s.warmup.detail.baseline})` : ''}`
        : '';
      const phases = s.runs[0]?.detail ? `; ${JSON.stringify(s.runs[0].detail)}` : '';
      out.push(
        `  - ${kind}: ${warm}; timed: ${runs || 'none'}${s.failure ? `; **FAILED: ${s.failure}**` : ''}${phases}`,
      );
    }
  }
  return out;
}

function report(results: SizeResult[], options: Options): string {
  return [
    `Sizes ${options.sizes.join(', ')}; one warm-up then up to ${options.reps} timed run(s) per series (fewer when a run is long: --budget ${options.budgetS} s), median shown.`,
    '',
    '**Embedded shadow** (no `shadowUrl`: supagate starts its own server for the shadow)',
    '',
    ...embeddedTable(results),
    '',
    '**Shadow server** (`shadowUrl` = a second embedded server with Supabase roles, as the tests use)',
    '',
    ...serverTable(results),
    '',
    `"linear in N?": the growth exponent k of time ≈ N^k between the two largest sizes: yes when k ≤ 1.15 (k = 1: time doubles with N; k well under 1: a fixed cost still weighs).`,
    '',
    '<details><summary>Runs and phases</summary>',
    '',
    ...details(results),
    '',
    '</details>',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  console.error('Starting two embedded PostgreSQL servers (production, shadow server)…');
  const [prod, shadowServer] = await Promise.all([
    startEmbeddedPostgres(),
    startEmbeddedPostgres({ supabaseRoles: true }),
  ]);
  const scratch = await mkdtemp(join(tmpdir(), 'supagate-plan-bench-'));
  const stop = () =>
    Promise.all([prod.stop(), shadowServer.stop(), rm(scratch, { recursive: true, force: true })]);
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  try {
    const results: SizeResult[] = [];
    for (const n of options.sizes) results.push(await runSize(prod, shadowServer, n, options, scratch));
    const text = report(results, options);
    console.log(text);
    if (options.out) await writeFile(options.out, `${text}\n`);
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
