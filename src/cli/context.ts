import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { relative } from 'node:path';
import type { DriftResult } from '../core/commands/drift.js';
import type { PlanResult } from '../core/commands/plan.js';
import { type ConfigInput, findProjectDir, resolveConfig, URL_ENV } from '../core/config.js';
import { describeTarget } from '../core/db/redact.js';
import { assertDatabaseUrl } from '../core/db/url-check.js';
import { SupagateError } from '../core/errors.js';
import { interruptReceived } from '../core/interrupt.js';
import { emitProgress, withProgress } from '../core/progress.js';
import { renderJson, renderJsonError } from '../core/report/json.js';
import { renderDriftMarkdown, renderPlanMarkdown, SUMMARY_LIMIT } from '../core/report/markdown.js';
import {
  countProgressPrinter,
  type PhaseTiming,
  type ProgressRenderer,
  progressRenderer,
} from '../core/report/progress.js';
import { renderError } from '../core/report/text.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /**
   * Progress of every phase on stderr. `live`: stderr is a terminal (one line rewritten in
   * place); otherwise plain lines. Unset (in-process callers): only the row counts of large
   * databases, as before.
   */
  progress?: { live: boolean; columns?: number };
  /** Where a relative project folder is looked up from (default: the process's). */
  cwd?: string;
}

/**
 * Exit codes: 0 success, 1 error or refusal (an environment problem too: a shadow that cannot
 * start or lacks an extension), 2 usage error, 3 plan has blocking findings (drift: production
 * drifted). Interrupted: 130 (SIGINT), 143 (SIGTERM), see core/interrupt.ts.
 */
export const EXIT = { ok: 0, error: 1, usage: 2, blocking: 3 } as const;

/** Flags every command that works on the target database may have (each declares its own). */
export interface CommonFlags {
  projectDir?: string;
  schemas?: string;
  migrationsDir?: string;
  rollbacksDir?: string;
  dbUrl?: string;
  json?: boolean;
  includeAll?: boolean;
  strictHistory?: boolean;
  allowEdited?: boolean;
}

/** What a command's action needs: the io, and a way to run the work and report it. */
export interface CliContext {
  io: CliIo;
  setExit(code: number): void;
  report<R extends object>(spec: ReportSpec<R>): Promise<void>;
}

export interface ReportSpec<R extends object> {
  name: string;
  json?: boolean;
  /** `Target: …` printed first, on stderr, when progress is shown. */
  targets?: string[];
  work: (progress: ProgressRenderer | undefined) => Promise<R>;
  render: (result: R, timings: PhaseTiming[] | undefined) => string;
  exit: (result: R) => number;
  out?: string;
}

export function createContext(io: CliIo, setExit: (code: number) => void): CliContext {
  const report = async <R extends object>(spec: ReportSpec<R>) => {
    const progress = io.progress
      ? progressRenderer({
          write: io.stderr,
          live: io.progress.live,
          color: io.progress.live && !io.env.NO_COLOR,
          ...(io.progress.columns ? { columns: io.progress.columns } : {}),
        })
      : undefined;
    try {
      const result = await (progress
        ? withProgress(progress.listener, async () => {
            for (const target of spec.targets ?? []) emitProgress({ type: 'target', target });
            return spec.work(progress);
          })
        : spec.work(undefined));
      progress?.finish();
      // The interrupt handler reports what was done and exits; a half-finished result would contradict it.
      if (interruptReceived()) return;
      const ok = spec.exit(result) === EXIT.ok;
      io.stdout(`${spec.json ? renderJson(result, ok) : spec.render(result, progress?.timings())}\n`);
      if (spec.out) await writeReport(spec.out, result, ok);
      setExit(spec.exit(result));
    } catch (error) {
      progress?.finish();
      if (interruptReceived()) return;
      io.stderr(`${spec.json ? renderJsonError(spec.name, error) : renderError(error)}\n`);
      setExit(EXIT.error);
    }
  };
  return { io, setExit, report };
}

/** The row counts' progress: through the renderer, or the plain count lines of old. */
export function countsTo(progress: ProgressRenderer | undefined, io: CliIo) {
  return progress ? progress.count : countProgressPrinter(io.stderr);
}

/**
 * A connection string from its flag or its environment variable, checked before anything
 * connects; errors name where it came from and never echo it.
 */
export function urlFrom(
  flag: string,
  value: string | undefined,
  envName: string,
  io: CliIo,
): string | undefined {
  const url = value ?? (io.env[envName] || undefined);
  if (url === undefined) return undefined;
  assertDatabaseUrl(value !== undefined ? flag : `$${envName}`, url);
  // Known before anything connects, so every message can redact it.
  describeTarget(url);
  return url;
}

/** The target's label for the `Target:` line, when there is a target. */
export function targetLabel(url: string | undefined): string[] {
  return url ? [describeTarget(url).label] : [];
}

/** --project-dir, else the nearest folder with supabase/ from the current one up (as the Supabase CLI). */
export function projectDirOf(flags: { projectDir?: string }, io: CliIo): string {
  if (flags.projectDir !== undefined) return flags.projectDir;
  const cwd = io.cwd ?? process.cwd();
  const found = findProjectDir(cwd);
  return relative(cwd, found) === '' ? '.' : found;
}

export function configFrom(flags: CommonFlags & ConfigInput, io: CliIo) {
  const dbUrl = urlFrom('--db-url', flags.dbUrl, URL_ENV.db, io);
  return resolveConfig({
    ...flags,
    projectDir: projectDirOf(flags, io),
    dbUrl,
    backupKey: io.env.SUPAGATE_BACKUP_KEY,
    supabaseUrl: io.env.SUPABASE_URL,
    supabaseServiceKey: io.env.SUPABASE_SERVICE_ROLE_KEY,
    actor: io.env.GITHUB_ACTOR ?? safeUser(),
    runId: io.env.GITHUB_RUN_ID,
  });
}

/** The shadow's settings, for commands that run migrations on a shadow. */
export interface ShadowFlags {
  shadowUrl?: string;
  shadowDisposable?: boolean;
  detectLocalSupabase?: boolean;
  shadowCache?: boolean;
  cacheDir?: string;
  pgDump?: string;
  pgRestore?: string;
}

export function shadowSettings(flags: ShadowFlags, io: CliIo): ConfigInput {
  return {
    shadowUrl: urlFrom('--shadow-url', flags.shadowUrl, URL_ENV.shadow, io),
    shadowDisposable: flags.shadowDisposable ?? io.env.SUPAGATE_SHADOW_DISPOSABLE,
    detectLocalSupabase: flags.detectLocalSupabase,
    // commander sets a --no- flag to true when absent: the environment decides then.
    shadowCache: flags.shadowCache === false ? false : io.env.SUPAGATE_SHADOW_CACHE,
    cacheDir: flags.cacheDir ?? io.env.SUPAGATE_CACHE_DIR,
    pgDumpPath: flags.pgDump,
    pgRestorePath: flags.pgRestore,
  };
}

function safeUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

async function writeReport(path: string, result: object, ok: boolean): Promise<void> {
  const command = (result as { command?: string }).command;
  const body = path.endsWith('.json')
    ? renderJson(result, ok)
    : command === 'plan'
      ? renderPlanMarkdown(result as PlanResult, { limit: SUMMARY_LIMIT })
      : command === 'drift'
        ? renderDriftMarkdown(result as DriftResult, { limit: SUMMARY_LIMIT })
        : renderJson(result, ok);
  await writeFile(path, `${body}\n`);
}

/** A required connection string that is missing: which flag or variable gives it. */
export function missingUrl(command: string, flag: string, envName: string, what: string): SupagateError {
  return new SupagateError('CONFIG_INVALID', `${command} needs ${what}: ${flag} is missing`, {
    hint: `Set $${envName} (preferred: keeps the password out of the process list), or pass ${flag} <url>.`,
    details: { setting: flag.replace(/^--/, '') },
  });
}
