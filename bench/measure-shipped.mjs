/**
 * `plan` measured as shipped, in a process of its own: dist/lib.js (the bundle the CLI and the
 * Action run) under plain Node. bench/measure-one.ts runs under tsx, which would transform the
 * bundle again and hold it in memory: nearly 200 MB that are tsx's, not supagate's.
 *
 *   node bench/measure-shipped.mjs plan
 *
 * Environment: BENCH_PROJECT_DIR, BENCH_DB_URL, BENCH_SHADOW_URL (empty: the embedded shadow),
 * BENCH_SHADOW_CACHE (1 or 0), BENCH_CACHE_DIR, BENCH_DUMP (a file for the changes found).
 * Prints one MeasureResult JSON line (bench/measure-one.ts) and exits 0, or 1 when it failed.
 */
import { writeFile } from 'node:fs/promises';

const MiB = 1024 * 1024;
const round = (value) => Math.round(value * 10) / 10;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function describeError(error) {
  if (!(error instanceof Error)) return String(error);
  return `${error.name}: ${error.message}`.replace(/postgres(?:ql)?:\/\/[^@\s]*@/g, 'postgresql://***@');
}

async function main() {
  const env = process.env;
  const { plan, resolveConfig } = await import('../dist/lib.js');
  const config = resolveConfig({
    projectDir: required('BENCH_PROJECT_DIR'),
    dbUrl: required('BENCH_DB_URL'),
    shadowUrl: env.BENCH_SHADOW_URL || undefined,
    detectLocalSupabase: false,
    actor: 'bench',
    ...(env.BENCH_SHADOW_CACHE ? { shadowCache: env.BENCH_SHADOW_CACHE === '1' } : {}),
    ...(env.BENCH_CACHE_DIR ? { cacheDir: env.BENCH_CACHE_DIR } : {}),
  });
  const startMB = process.memoryUsage().rss / MiB;
  const started = performance.now();
  let result;
  let error;
  try {
    result = await plan(config);
  } catch (caught) {
    error = describeError(caught);
  }
  const ms = performance.now() - started;
  const ok = !error && result.status === 'planned' && result.diff.changes.length > 0;
  const detail = result && {
    status: result.status,
    pending: result.pending.length,
    hazards: result.hazards.length,
    lintsIntroduced: result.lints.introduced.length,
    accessRows: result.access.length,
    durationMs: result.durationMs,
    shadowSource: result.shadow.source,
    baseline: result.shadow.baseline ?? 'none',
    ...(result.failure ? { failure: result.failure.message } : {}),
  };
  const line = {
    tool: 'plan',
    ok,
    ms: round(ms),
    peakMB: round(process.resourceUsage().maxRSS / 1024),
    startMB: round(startMB),
    count: result?.diff.changes.length ?? 0,
    ...(detail ? { detail } : {}),
    ...(error ? { error } : {}),
  };
  if (env.BENCH_DUMP && result) {
    await writeFile(
      env.BENCH_DUMP,
      result.diff.changes.map((c) => `${c.kind} ${c.action} ${c.id}`).join('\n'),
    );
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return ok ? 0 : 1;
}

// Exit explicitly: nothing of the measured run may keep the process alive.
main().then(
  (code) => process.exit(code),
  (error) => {
    process.stdout.write(
      `${JSON.stringify({ tool: 'plan', ok: false, ms: 0, peakMB: 0, startMB: 0, count: 0, error: describeError(error) })}\n`,
    );
    process.exit(1);
  },
);
