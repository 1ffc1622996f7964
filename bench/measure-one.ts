/**
 * One measurement in a process of its own, so that its peak memory is its own:
 *
 *   node --import tsx bench/measure-one.ts supagate [urlA urlB]
 *   node --import tsx bench/measure-one.ts migra    [urlA urlB]
 *   node --import tsx bench/measure-one.ts floor    (bench/floor.ts; environment only)
 *   node --import tsx bench/measure-one.ts baseline
 *
 * URLs may come from the environment instead (BENCH_URL_A, BENCH_URL_B), which keeps passwords
 * out of the process list. supagate's plan is measured as shipped by bench/measure-shipped.mjs.
 * Modules are loaded before the clock starts; the time is the work only (connecting included). Prints one
 * JSON line (MeasureResult) on stdout and exits 0, or 1 when the tool failed.
 *
 * Peak memory is process.resourceUsage().maxRSS: the peak resident set of this process (module
 * loading included, child processes such as pg_dump not included).
 */
import { writeFile } from 'node:fs/promises';

export interface MeasureResult {
  tool: string;
  ok: boolean;
  /** Wall time of the work, ms. */
  ms: number;
  /** Peak resident set size of the process, MiB. */
  peakMB: number;
  /** Resident set size before the work started (modules loaded), MiB. */
  startMB: number;
  /** What the tool found: changed objects (supagate), statements (migra). */
  count: number;
  detail?: Record<string, unknown>;
  error?: string;
}

const MiB = 1024 * 1024;

export type Work = () => Promise<{
  ok: boolean;
  count: number;
  detail?: Record<string, unknown>;
  dump?: string;
}>;

async function main(): Promise<number> {
  const [tool = '', ...args] = process.argv.slice(2);
  const env = process.env;
  let work: Work;
  switch (tool) {
    case 'baseline':
      work = async () => ({ ok: true, count: 0 });
      break;
    case 'supagate': {
      const urlA = args[0] ?? required('BENCH_URL_A');
      const urlB = args[1] ?? required('BENCH_URL_B');
      const { connect, disconnect } = await import('../src/core/db/connect.js');
      const { introspect } = await import('../src/core/schema/introspect.js');
      const { diffSchemas } = await import('../src/core/schema/diff.js');
      work = async () => {
        const phases: Record<string, number> = {};
        let mark = performance.now();
        const lap = (name: string) => {
          const now = performance.now();
          phases[name] = round(now - mark);
          mark = now;
        };
        // As `supagate diff` does: both databases are read at the same time.
        const [a, b] = await Promise.all([
          connect(urlA, { applicationName: 'supagate bench' }),
          connect(urlB, { applicationName: 'supagate bench' }),
        ]);
        lap('connectMs');
        try {
          const [before, after] = await Promise.all([introspect(a.client), introspect(b.client)]);
          lap('introspectMs');
          const diff = diffSchemas(before, after);
          lap('diffMs');
          const byKind: Record<string, number> = {};
          for (const change of diff.changes) {
            const key = `${change.kind} ${change.action}`;
            byKind[key] = (byKind[key] ?? 0) + 1;
          }
          return {
            ok: true,
            count: diff.changes.length,
            detail: {
              ...phases,
              tables: Object.keys(before.tables).length,
              views: Object.keys(before.views).length,
              functions: Object.keys(before.functions).length,
              changes: byKind,
            },
            dump: diff.changes.map((c) => `${c.kind} ${c.action} ${c.id}`).join('\n'),
          };
        } finally {
          await disconnect(a);
          await disconnect(b);
        }
      };
      break;
    }
    case 'migra': {
      const urlA = args[0] ?? required('BENCH_URL_A');
      const urlB = args[1] ?? required('BENCH_URL_B');
      const { run } = await import('@pgkit/migra');
      work = async () => {
        // As `migra --unsafe --with-privileges urlA urlB`: drops are expected (a dropped
        // column), and supagate compares grants too.
        const migration = await run(urlA, urlB, { unsafe: true, withPrivileges: true });
        try {
          const sql = migration.sql;
          return {
            ok: true,
            count: migration.statements.length,
            detail: { sqlChars: sql.length },
            dump: sql,
          };
        } finally {
          for (const side of [migration.s_from, migration.s_target]) {
            const end = (side as { end?: () => Promise<void> }).end;
            if (typeof end === 'function') await end.call(side).catch(() => {});
          }
        }
      };
      break;
    }
    case 'floor': {
      const { prepareFloor } = await import('./floor.js');
      work = await prepareFloor(env);
      break;
    }
    default:
      throw new Error(`Unknown tool "${tool}": use supagate, migra, floor or baseline`);
  }

  const startMB = process.memoryUsage().rss / MiB;
  const started = performance.now();
  let outcome: Awaited<ReturnType<Work>>;
  let error: string | undefined;
  try {
    outcome = await work();
  } catch (caught) {
    outcome = { ok: false, count: 0 };
    error = describeError(caught);
  }
  const ms = performance.now() - started;
  const result: MeasureResult = {
    tool,
    ok: outcome.ok && !error,
    ms: round(ms),
    peakMB: round(process.resourceUsage().maxRSS / 1024),
    startMB: round(startMB),
    count: outcome.count,
    ...(outcome.detail ? { detail: outcome.detail } : {}),
    ...(error ? { error } : {}),
  };
  if (env.BENCH_DUMP && outcome.dump !== undefined) await writeFile(env.BENCH_DUMP, outcome.dump);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.ok ? 0 : 1;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const stack = (error.stack ?? '').split('\n').slice(1, 4).join(' | ').trim();
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}${stack ? ` @ ${stack}` : ''}`.replace(
    /postgres(?:ql)?:\/\/[^@\s]*@/g,
    'postgresql://***@',
  );
}

const round = (value: number) => Math.round(value * 10) / 10;

main().then(
  // Exit explicitly: pools of the measured tools must not keep the process alive.
  (code) => process.exit(code),
  (error) => {
    process.stdout.write(
      `${JSON.stringify({ tool: process.argv[2] ?? '', ok: false, ms: 0, peakMB: 0, startMB: 0, count: 0, error: describeError(error) })}\n`,
    );
    process.exit(1);
  },
);
