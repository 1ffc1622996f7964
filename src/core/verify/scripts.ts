import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { type Client, connect, disconnect, pgErrorFields } from '../db/connect.js';
import { isSupagateError } from '../errors.js';
import { normalizeSource } from '../migrations/checksum.js';
import { compareVersions } from '../migrations/files.js';
import { parseMigrationSql } from '../migrations/statements.js';

/*
 * Custom verify scripts: SQL the project writes to check what matters to it after an apply.
 *
 * Where (relative to the project directory, default folder `supabase/verify`):
 *   supabase/verify/*.sql             run after every apply;
 *   supabase/verify/<version>/*.sql   run only when the migration <version> was applied in this
 *                                     run (the folder is the version's digits, compared as a
 *                                     number like migration versions: `7/` matches `007`).
 * Files run in that order: the every-apply files by name, then the version folders by version,
 * each folder's files by name. Other files and folders are ignored (folders whose name is not
 * a version are reported in `ignored`).
 *
 * How: each script runs in its own transaction that is ALWAYS rolled back, so a script may
 * write (to set up a check, act as a user…) and nothing stays. Statements are split with
 * PostgreSQL's parser and sent one by one; transaction control (BEGIN, COMMIT, ROLLBACK,
 * PREPARE TRANSACTION) is refused, as in migrations, since it would end the transaction that
 * keeps the script from changing anything (a file wrapped in one BEGIN … COMMIT has the pair
 * removed). Session settings a script changes (SET, SET ROLE) are undone with the transaction.
 *
 * Outcome, decided by the result of the LAST statement that returns rows (a SELECT, VALUES,
 * … RETURNING):
 *   - an error (of any statement, or of parsing the file)            → fails, with the error;
 *   - the first column of the first row is false or NULL              → fails, with that row;
 *   - no statement returns rows, no rows, or any other first value    → passes.
 * So write checks as booleans: `select count(*) = 0 from posts where author_id is null`.
 * NULL fails because a check that cannot decide proves nothing (`bool_and` over no rows is
 * NULL: wrap it in coalesce() when no rows means "fine").
 */

export interface ScriptOptions {
  projectDir: string;
  /** Default `supabase/verify`. */
  dir?: string;
  /** Versions applied in this run: their folders' scripts run. */
  appliedVersions: string[];
  /** `statement_timeout` of script statements (default 5 min). */
  statementTimeoutMs?: number;
  /** `lock_timeout` of script statements (default 10s): a check never queues behind the app. */
  lockTimeoutMs?: number;
}

export const DEFAULT_VERIFY_DIR = 'supabase/verify';

export interface VerifyScript {
  /** Relative to the project directory, forward slashes. */
  path: string;
  absolutePath: string;
  /** `always`, or the migration version whose folder it is in. */
  scope: 'always' | { version: string };
}

export interface ScriptResult {
  path: string;
  scope: VerifyScript['scope'];
  status: 'passed' | 'failed';
  /** Why it failed, in words. */
  message?: string;
  /** The error, when a statement failed. */
  error?: { message: string; sqlstate?: string; line?: number; statement?: string };
  /** The row that decided (the first row of the last statement returning rows). */
  row?: Record<string, unknown>;
}

export interface ScriptDiscovery {
  scripts: VerifyScript[];
  /** Folders of versions not applied in this run. */
  skipped: string[];
  /** Folders whose name is not a version. */
  ignored: string[];
}

/** The scripts that run for this apply, in order. */
export async function findVerifyScripts(options: ScriptOptions): Promise<ScriptDiscovery> {
  const root = resolve(options.projectDir, options.dir ?? DEFAULT_VERIFY_DIR);
  const entries = await listDir(root);
  const display = (path: string) => relative(options.projectDir, path).split(sep).join('/');
  const scripts: VerifyScript[] = [];
  const skipped: string[] = [];
  const ignored: string[] = [];
  for (const entry of entries.filter((e) => e.isFile() && e.name.endsWith('.sql'))) {
    const absolutePath = join(root, entry.name);
    scripts.push({ path: display(absolutePath), absolutePath, scope: 'always' });
  }
  const folders = entries.filter((e) => e.isDirectory());
  const versions = folders.filter((e) => /^\d+$/.test(e.name));
  for (const folder of folders)
    if (!/^\d+$/.test(folder.name)) ignored.push(display(join(root, folder.name)));
  versions.sort((a, b) => compareVersions(a.name, b.name) || compareText(a.name, b.name));
  for (const folder of versions) {
    const applied = options.appliedVersions.find((version) => compareVersions(version, folder.name) === 0);
    const dir = join(root, folder.name);
    if (applied === undefined) {
      skipped.push(display(dir));
      continue;
    }
    for (const entry of (await listDir(dir)).filter((e) => e.isFile() && e.name.endsWith('.sql'))) {
      const absolutePath = join(dir, entry.name);
      scripts.push({ path: display(absolutePath), absolutePath, scope: { version: applied } });
    }
  }
  return { scripts, skipped, ignored };
}

async function listDir(dir: string) {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) => compareText(a.name, b.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Finds and runs the scripts for this apply on one connection. */
export async function runVerifyScripts(
  url: string,
  options: ScriptOptions,
): Promise<{ results: ScriptResult[]; skipped: string[]; ignored: string[] }> {
  const discovery = await findVerifyScripts(options);
  if (discovery.scripts.length === 0)
    return { results: [], skipped: discovery.skipped, ignored: discovery.ignored };
  const connection = await connect(url, { applicationName: 'supagate verify (scripts)' });
  try {
    const results: ScriptResult[] = [];
    for (const script of discovery.scripts) results.push(await runScript(connection.client, script, options));
    return { results, skipped: discovery.skipped, ignored: discovery.ignored };
  } finally {
    await disconnect(connection);
  }
}

/** Runs one script in a transaction that is always rolled back. */
export async function runScript(
  client: Client,
  script: VerifyScript,
  options: Pick<ScriptOptions, 'statementTimeoutMs' | 'lockTimeoutMs'> = {},
): Promise<ScriptResult> {
  const base = { path: script.path, scope: script.scope };
  let statements: Awaited<ReturnType<typeof parseMigrationSql>>['statements'];
  try {
    const sql = normalizeSource(await readFile(script.absolutePath, 'utf8'));
    statements = (await parseMigrationSql(sql, script.path)).statements;
  } catch (error) {
    // Parse errors and refused transaction control already name the file, line and column.
    const message = isSupagateError(error) ? error.message : `${script.path}: ${String(error)}`;
    const line =
      isSupagateError(error) && typeof error.details.line === 'number' ? error.details.line : undefined;
    return {
      ...base,
      status: 'failed',
      message,
      error: { message, ...(line !== undefined ? { line } : {}) },
    };
  }

  let decidingRow: Record<string, unknown> | undefined;
  let failed: ScriptResult | undefined;
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL statement_timeout = ${Math.round(options.statementTimeoutMs ?? 300_000)}`);
    await client.query(`SET LOCAL lock_timeout = ${Math.round(options.lockTimeoutMs ?? 10_000)}`);
    for (const statement of statements) {
      try {
        const result = await client.query({ text: statement.sql, rowMode: 'array' });
        const results = (Array.isArray(result) ? result : [result]) as {
          fields?: { name: string }[];
          rows: unknown[][];
        }[];
        for (const r of results) {
          if (r.fields && r.fields.length > 0)
            decidingRow = r.rows[0] ? rowObject(r.fields, r.rows[0]) : undefined;
        }
      } catch (error) {
        const fields = pgErrorFields(error);
        failed = {
          ...base,
          status: 'failed',
          message: `${script.path}:${statement.line}: ${fields.code ? `${fields.code} ` : ''}${fields.message}`,
          error: {
            message: fields.message,
            ...(fields.code ? { sqlstate: fields.code } : {}),
            line: statement.line,
            statement: statement.sql,
          },
        };
        break;
      }
    }
  } finally {
    await client.query('ROLLBACK');
  }
  if (failed) return failed;
  if (decidingRow) {
    const first = Object.values(decidingRow)[0];
    if (first === false || first === null) {
      return {
        ...base,
        status: 'failed',
        message: `${script.path} returned ${first === null ? 'NULL' : 'false'}: ${JSON.stringify(decidingRow)}`,
        row: decidingRow,
      };
    }
    return { ...base, status: 'passed', row: decidingRow };
  }
  return { ...base, status: 'passed' };
}

/** Column name → value; a later column of the same name gets a `_2` suffix. */
function rowObject(fields: { name: string }[], values: unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  fields.forEach((field, i) => {
    let name = field.name;
    for (let n = 2; Object.hasOwn(row, name); n++) name = `${field.name}_${n}`;
    row[name] = values[i];
  });
  return row;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
