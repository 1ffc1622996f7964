import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { SupagateError } from '../errors.js';
import { normalizeSource } from '../migrations/checksum.js';
import { schemaPathsOf } from './config-toml.js';
import { BadPatternError, compareNames, glob } from './glob.js';

/**
 * The declared schema's files, found as the Supabase CLI finds them (`supabase db diff`):
 * - `[db.migrations] schema_paths` in supabase/config.toml, when set: each pattern relative to
 *   the supabase folder (absolute ones as they are), its matches in name order, the patterns
 *   in the order written, a file matched twice run once, where first matched. A pattern that
 *   matches nothing is an error. A matched folder is read as the default folder is.
 * - otherwise every `*.sql` file under supabase/schemas, subfolders too, in the order a walk
 *   meets them (each folder's entries by name), symbolic links left out.
 * Only files are read. They are the pull request's: none may be outside the project (a link
 * or a pattern pointing at the runner's files would have them run, and their text shown in
 * the database's error messages).
 */

export interface DeclaredFile {
  /** Relative to the project, with forward slashes: what reports show. */
  path: string;
  /** Normalized source (LF line endings, no BOM). */
  sql: string;
}

export interface DeclaredSchemaFiles {
  /** In the order they run; empty when the project declares no schema. */
  files: DeclaredFile[];
  /** Where the list comes from: config.toml's patterns, or the default folder. */
  source: 'schema_paths' | 'supabase/schemas';
}

const SETTING = '[db.migrations] schema_paths';

export async function discoverDeclaredSchema(projectDir: string): Promise<DeclaredSchemaFiles> {
  const project = await realpath(resolve(projectDir)).catch(() => resolve(projectDir));
  const supabaseDir = resolve(project, 'supabase');
  const patterns = await configuredPatterns(project, supabaseDir);
  if (patterns === undefined || patterns.length === 0) {
    const paths = await walkSqlFiles(resolve(supabaseDir, 'schemas'));
    await assertInsideProject(project, paths);
    return { files: await readAll(project, paths), source: 'supabase/schemas' };
  }
  return {
    files: await readAll(project, await matchPatterns(project, supabaseDir, patterns)),
    source: 'schema_paths',
  };
}

async function configuredPatterns(project: string, supabaseDir: string): Promise<string[] | undefined> {
  const file = resolve(supabaseDir, 'config.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return schemaPathsOf(normalizeSource(text), displayPath(project, file));
}

async function matchPatterns(project: string, supabaseDir: string, patterns: string[]): Promise<string[]> {
  const seen = new Set<string>();
  const paths: string[] = [];
  const unmatched: string[] = [];
  for (const pattern of patterns.filter((p) => p.length > 0)) {
    const full = isAbsolute(pattern) ? pattern : posix.join(toPosix(supabaseDir), pattern);
    let matches: string[];
    try {
      matches = (await glob(full)).sort(compareNames);
    } catch (error) {
      if (!(error instanceof BadPatternError)) throw error;
      throw new SupagateError(
        'DECLARED_SCHEMA_INVALID',
        `${SETTING}: "${pattern}" is not a valid pattern: ${error.message}`,
        {
          hint: 'Patterns are Go globs: * and ? within one folder, [a-z] classes, \\ to escape; ** is not recursive.',
          details: { setting: SETTING, pattern },
        },
      );
    }
    if (matches.length === 0) unmatched.push(pattern);
    for (const match of matches) {
      const isFolder = (await lstat(match)).isDirectory();
      if (!isFolder && posix.extname(match) !== '.sql') throw notSql(project, pattern, match);
      const files = isFolder ? await walkSqlFiles(match) : [match];
      for (const file of files) {
        if (seen.has(file)) continue;
        seen.add(file);
        paths.push(file);
      }
    }
  }
  if (unmatched.length > 0) {
    throw new SupagateError(
      'DECLARED_SCHEMA_INVALID',
      `${SETTING} in supabase/config.toml: no file matches ${unmatched.map((p) => `"${p}"`).join(', ')}`,
      {
        hint: 'Patterns are relative to the supabase folder (e.g. "./schemas/*.sql"). Fix the pattern or remove it; the Supabase CLI refuses it too.',
        details: { setting: SETTING, patterns: unmatched },
      },
    );
  }
  await assertInsideProject(project, paths);
  return paths;
}

/** Regular `.sql` files under `dir`, as Go's filepath.Walk meets them; none when it does not exist. */
async function walkSqlFiles(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => compareNames(a.name, b.name))) {
    const path = posix.join(toPosix(dir), entry.name);
    if (entry.isDirectory()) files.push(...(await walkSqlFiles(path)));
    else if (entry.isFile() && posix.extname(entry.name) === '.sql') files.push(path);
  }
  return files;
}

/**
 * Only `.sql` files, where the Supabase CLI takes any file: a pattern could otherwise name a
 * file an earlier step of the job wrote into the checkout (a credentials file), and the
 * database's error on it would quote its text in the pull request's comment.
 */
function notSql(project: string, pattern: string, match: string): SupagateError {
  const file = displayPath(project, match);
  return new SupagateError(
    'DECLARED_SCHEMA_INVALID',
    `${SETTING}: "${pattern}" matches ${file}, which is not a .sql file`,
    {
      hint: 'Schema files end in .sql: supagate does not run other files of the checkout, which may be ones an earlier step of the job wrote there.',
      details: { setting: SETTING, pattern, file },
    },
  );
}

async function assertInsideProject(project: string, paths: string[]): Promise<void> {
  for (const path of paths) {
    const real = await realpath(path);
    const inside = relative(project, real);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new SupagateError(
        'DECLARED_SCHEMA_INVALID',
        `${SETTING}: ${displayPath(project, path)} is outside the project`,
        {
          hint: 'Schema files must be files of the repository: supagate does not read files elsewhere on the runner.',
          details: { setting: SETTING, file: displayPath(project, path) },
        },
      );
    }
  }
}

async function readAll(project: string, paths: string[]): Promise<DeclaredFile[]> {
  const files: DeclaredFile[] = [];
  for (const path of paths) {
    const bytes = await readFile(path);
    files.push({
      path: displayPath(project, path),
      sql: normalizeSource(new TextDecoder('utf-8').decode(bytes)),
    });
  }
  return files;
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

function displayPath(project: string, path: string): string {
  const rel = relative(project, path);
  return toPosix(rel.startsWith('..') ? path : rel);
}
