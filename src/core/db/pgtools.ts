import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { basename, delimiter, join } from 'node:path';
import { SupagateError } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { redact } from './redact.js';

/**
 * PostgreSQL's client programs (pg_dump, pg_restore): found by explicit path, then PATH, then
 * the usual install folders, picking a major version at least the server's (pg_dump refuses
 * to dump a newer server). Passwords go through the environment, never the command line.
 */
export type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

export interface FoundTool {
  path: string;
  major: number;
  version: string;
}

const INSTALL_GLOBS = [
  '/usr/lib/postgresql/*/bin',
  '/usr/pgsql-*/bin',
  '/usr/local/pgsql/bin',
  '/opt/homebrew/opt/postgresql@*/bin',
  '/usr/local/opt/postgresql@*/bin',
  '/opt/homebrew/opt/libpq/bin',
  '/usr/local/opt/libpq/bin',
  '/Applications/Postgres.app/Contents/Versions/*/bin',
];

export async function findPgTool(
  tool: PgTool,
  options: { explicitPath?: string; minMajor: number; searchPath?: string },
): Promise<FoundTool> {
  if (options.explicitPath) {
    const found = await probe(options.explicitPath);
    if (!found) {
      throw missingTool(
        tool,
        options.minMajor,
        `--${tool.replace('_', '-')} ${options.explicitPath} is not a runnable ${tool}`,
      );
    }
    if (found.major < options.minMajor) throw tooOld(tool, options.minMajor, [found]);
    return found;
  }
  const candidates = await installedCopies(tool, options.searchPath ?? process.env.PATH ?? '');
  const suitable = candidates.filter((c) => c.major >= options.minMajor).sort((a, b) => a.major - b.major);
  // The oldest suitable major: closest to the server's, as pg_dump recommends.
  const best = suitable[0];
  if (best) return best;
  if (candidates.length > 0) throw tooOld(tool, options.minMajor, candidates);
  throw missingTool(tool, options.minMajor, `no ${tool} found on PATH or in the usual install folders`);
}

/** Searched once per process and search path: each probe starts the program. */
const searches = new Map<string, Promise<FoundTool[]>>();

function installedCopies(tool: PgTool, searchPath: string): Promise<FoundTool[]> {
  const key = `${tool}\0${searchPath}`;
  let search = searches.get(key);
  if (!search) {
    search = searchCopies(tool, searchPath);
    searches.set(key, search);
    search.catch(() => searches.delete(key));
  }
  return search;
}

/** Starts looking for the programs on PATH, so that a later findPgTool has them at hand. */
export function lookForPgTools(tools: PgTool[]): void {
  for (const tool of tools) installedCopies(tool, process.env.PATH ?? '').catch(() => {});
}

async function searchCopies(tool: PgTool, searchPath: string): Promise<FoundTool[]> {
  const paths = new Set<string>();
  for (const dir of [...searchPath.split(delimiter), ...(await expand(INSTALL_GLOBS))]) {
    if (dir) paths.add(join(dir, tool));
  }
  const probed = await Promise.all([...paths].map((path) => probe(path)));
  return probed.filter((found): found is FoundTool => found !== undefined);
}

async function expand(globs: string[]): Promise<string[]> {
  const dirs: string[] = [];
  for (const glob of globs) {
    const star = glob.indexOf('*');
    if (star < 0) {
      dirs.push(glob);
      continue;
    }
    const parent = glob.slice(0, glob.lastIndexOf('/', star));
    const prefix = glob.slice(parent.length + 1, star);
    const rest = glob.slice(glob.indexOf('/', star));
    const entries = await readdir(parent).catch(() => [] as string[]);
    for (const entry of entries.filter((e) => e.startsWith(prefix)).sort())
      dirs.push(join(parent, entry) + rest);
  }
  return dirs;
}

async function probe(path: string): Promise<FoundTool | undefined> {
  try {
    await access(path, constants.X_OK);
  } catch {
    return undefined;
  }
  const result = await runTool(path, ['--version'], {}).catch(() => undefined);
  const match = result && /(\d+)(?:\.(\d+))?/.exec(result.stdout);
  if (!match) return undefined;
  return { path, major: Number(match[1]), version: result.stdout.trim() };
}

function installHint(tool: PgTool, minMajor: number): string {
  const major = Math.max(minMajor, 15);
  return (
    `Install the PostgreSQL ${major} client: Debian/Ubuntu \`apt-get install postgresql-client-${major}\` ` +
    `(PGDG repository for newer majors), macOS \`brew install postgresql@${major}\`; ` +
    `or pass --${tool.replace('_', '-')} /path/to/${tool}.`
  );
}

function missingTool(tool: PgTool, minMajor: number, why: string): SupagateError {
  return new SupagateError('PG_TOOL_MISSING', `${tool} ${minMajor} or newer is needed: ${why}`, {
    hint: installHint(tool, minMajor),
    details: { tool, minMajor },
  });
}

function tooOld(tool: PgTool, minMajor: number, found: FoundTool[]): SupagateError {
  const list = found.map((f) => `${f.path} (${f.major})`).join(', ');
  return new SupagateError(
    'PG_TOOL_MISSING',
    `${tool} ${minMajor} or newer is needed (the server runs PostgreSQL ${minMajor}); found only ${list}`,
    { hint: installHint(tool, minMajor), details: { tool, minMajor, found: found.map((f) => f.path) } },
  );
}

/** libpq environment for a connection string: the password never appears in argv. */
export function libpqEnvironment(url: string): NodeJS.ProcessEnv {
  const parsed = new URL(url);
  const env: NodeJS.ProcessEnv = {
    PGHOST: parsed.hostname || parsed.searchParams.get('host') || 'localhost',
    PGPORT: parsed.port || '5432',
    PGUSER: decodeURIComponent(parsed.username) || 'postgres',
    PGDATABASE: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
    PGAPPNAME: 'supagate',
    PGCONNECT_TIMEOUT: '15',
  };
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a tool to completion, collecting output (for small outputs: --version, --list). */
export function runTool(path: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const tool = basename(path);
    // A signal sent to supagate alone (not its process group) must not leave the tool running.
    const forgetInterrupt = onInterrupt(`stopping ${tool}`, () => {
      child.kill('SIGTERM');
      return Promise.resolve(`stopped ${tool}`);
    });
    child.once('exit', forgetInterrupt);
    child.once('error', forgetInterrupt);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: redact(Buffer.concat(stderr).toString('utf8')),
        code: code ?? 1,
      }),
    );
  });
}

/** The first non-empty lines of a tool's error output, on one line: what a message quotes. */
export function firstLines(text: string, count = 4): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .slice(0, count)
    .join(' ');
}
