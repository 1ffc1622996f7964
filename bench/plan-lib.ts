/**
 * Helpers of bench/plan.bench.ts: a measurement in a child process (bench/measure-one.ts), a
 * series of them (one warm-up, then timed runs within a budget), medians and growth in N.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { MeasureResult } from './measure-one.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Series {
  warmup: MeasureResult | null;
  runs: MeasureResult[];
  /** Why there is no number: the tool failed or timed out. */
  failure: string | null;
}

export interface Budget {
  reps: number;
  budgetS: number;
  timeoutS: number;
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * `node --import tsx bench/measure-one.ts <tool>` with `env` (`plan`: `node
 * bench/measure-shipped.mjs plan`, the bundle as shipped); its JSON line, or a failure. The
 * child is in `running` while it runs (for a Ctrl-C handler to kill).
 */
export function measureChild(
  tool: string,
  env: NodeJS.ProcessEnv,
  timeoutS: number,
  running?: Set<ChildProcess>,
): Promise<MeasureResult> {
  return new Promise((resolve) => {
    const args =
      tool === 'plan'
        ? [join(ROOT, 'bench/measure-shipped.mjs'), tool]
        : ['--import', 'tsx', join(ROOT, 'bench/measure-one.ts'), tool];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running?.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running?.delete(child);
      const line = stdout.trim().split('\n').pop() ?? '';
      let parsed: MeasureResult | undefined;
      try {
        parsed = line ? (JSON.parse(line) as MeasureResult) : undefined;
      } catch {
        parsed = undefined;
      }
      if (parsed && !timedOut) return resolve(parsed);
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      const error = timedOut ? `timed out after ${timeoutS} s` : `exited with ${signal ?? code}: ${tail}`;
      resolve({
        tool,
        ok: false,
        ms: timedOut ? timeoutS * 1000 : 0,
        peakMB: 0,
        startMB: 0,
        count: 0,
        error,
      });
    });
  });
}

const failureOf = (r: MeasureResult) =>
  r.error ?? `no result (count ${r.count}, ${JSON.stringify(r.detail ?? {})})`.slice(0, 500);

/** One warm-up, then up to budget.reps timed runs (at least one), fewer when a run is long. */
export async function summary(
  name: string,
  label: string,
  budget: Budget,
  once: () => Promise<MeasureResult>,
): Promise<Series> {
  const log = (text: string) => console.error(`  ${label} ${name}: ${text}`);
  const warmup = await once();
  if (!warmup.ok) {
    log(`FAILED: ${failureOf(warmup)}`);
    return { warmup, runs: [], failure: failureOf(warmup) };
  }
  const reps = Math.max(
    1,
    Math.min(budget.reps, Math.floor((budget.budgetS * 1000) / Math.max(warmup.ms, 1))),
  );
  const runs: MeasureResult[] = [];
  for (let i = 0; i < reps; i++) {
    const run = await once();
    if (!run.ok) {
      log(`run ${i + 1} FAILED: ${failureOf(run)}`);
      return { warmup, runs, failure: failureOf(run) };
    }
    runs.push(run);
  }
  const seen = runs.map((r) => r.detail?.baseline).filter(Boolean);
  log(
    `warm-up ${fmtMs(warmup.ms)} ms; median of ${runs.length}: ${fmtMs(median(runs.map((r) => r.ms)))} ms, peak ${median(runs.map((r) => r.peakMB)).toFixed(0)} MB${seen.length ? `; baseline ${seen.join(', ')}` : ''}`,
  );
  return { warmup, runs, failure: null };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const fmtMs = (ms: number) => Math.round(ms).toLocaleString('en-US');

/** k in time ≈ N^k between the two largest sizes. */
export function exponent(points: { n: number; ms: number }[]): number {
  const sorted = [...points].sort((a, b) => a.n - b.n);
  const a = sorted[sorted.length - 2];
  const b = sorted[sorted.length - 1];
  if (!a || !b || a.ms <= 0) return Number.NaN;
  return Math.log(b.ms / a.ms) / Math.log(b.n / a.n);
}

/** "yes (k 0.93)" / "no (k 1.40)", or "—" with fewer than two sizes. */
export function linearity(points: { n: number; ms: number }[]): string {
  const k = exponent(points);
  if (!Number.isFinite(k)) return '—';
  return `${k <= 1.15 ? 'yes' : 'no'} (k ${k.toFixed(2)})`;
}
