import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { SupagateError } from '../errors.js';
import { checksumOf, normalizeSource } from './checksum.js';
import type { FileWarning, InvalidFile, Migration, MigrationFile, ParsedSql } from './model.js';
import { parseMigrationSql } from './statements.js';
import { lineColumnAt } from './text.js';

/** The Supabase CLI's file name rule: version digits, an underscore, a name, `.sql`. */
export const MIGRATION_FILE_PATTERN = /^([0-9]+)_(.*)\.sql$/;

export interface DiscoverOptions {
  projectDir: string;
  /** Relative to projectDir unless absolute. */
  migrationsDir: string;
  /** Down migrations, paired with their up migration by version. */
  rollbacksDir: string;
}

export interface DiscoveredMigrations {
  /** Ordered by the numeric value of their version. */
  migrations: Migration[];
  warnings: FileWarning[];
}

/** Numeric order on the version: `2_x` before `10_y`, `001_` and 14-digit stamps alike. */
export function compareVersions(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

/** The files read and paired, not parsed yet (parseMigrations). */
export interface MigrationFiles {
  upFiles: (MigrationFile & { invalid?: InvalidFile })[];
  downByVersion: Map<string, MigrationFile>;
  warnings: FileWarning[];
}

export async function discoverMigrations(options: DiscoverOptions): Promise<DiscoveredMigrations> {
  return parseMigrations(await readMigrationFiles(options));
}

/** Reads the migration and rollback files; fails on a missing folder or a duplicate version. */
export async function readMigrationFiles(options: DiscoverOptions): Promise<MigrationFiles> {
  const migrationsDir = resolve(options.projectDir, options.migrationsDir);
  const warnings: FileWarning[] = [];
  const upFiles = await readMigrationDir(options.projectDir, migrationsDir, warnings, { required: true });
  const downFiles = await readMigrationDir(
    options.projectDir,
    resolve(options.projectDir, options.rollbacksDir),
    warnings,
    {
      required: false,
    },
  );

  const downByVersion = new Map(downFiles.map((file) => [file.version, file]));
  const upVersions = new Set(upFiles.map((file) => file.version));
  for (const down of downFiles) {
    if (!upVersions.has(down.version)) {
      warnings.push({
        path: down.path,
        message: `rollback file has no migration with version ${down.version} in ${options.migrationsDir}; it is ignored`,
      });
    }
  }

  return { upFiles, downByVersion, warnings };
}

/**
 * Splits and classifies each file's statements. `parses` may leave some out (a plan leaves out
 * the files production has applied: it only compares their text with the history): those are
 * `unparsed`, with no statements.
 */
export async function parseMigrations(
  { upFiles, downByVersion, warnings }: MigrationFiles,
  parses: (file: MigrationFile) => boolean = () => true,
): Promise<DiscoveredMigrations> {
  const migrations: Migration[] = [];
  for (const { invalid, ...file } of upFiles) {
    const rollback = downByVersion.get(file.version);
    if (!invalid && !parses(file)) {
      migrations.push({
        ...file,
        ...NOTHING_PARSED,
        unparsed: true,
        ...(rollback ? { rollback } : {}),
        transactional: true,
      });
      continue;
    }
    const parsed = invalid ? { ...NOTHING_PARSED, invalid } : await parseOrInvalid(file);
    migrations.push({
      ...file,
      ...parsed,
      ...(rollback ? { rollback } : {}),
      transactional: parsed.statements.every((statement) => !statement.nonTransactional),
    });
  }
  return { migrations, warnings };
}

const NOTHING_PARSED: ParsedSql = { statements: [], cliStatements: [], strippedTransactionWrapper: false };

async function parseOrInvalid(file: MigrationFile): Promise<ParsedSql & { invalid?: InvalidFile }> {
  try {
    return await parseMigrationSql(file.sql, file.path);
  } catch (error) {
    if (!(error instanceof SupagateError)) throw error;
    return { ...NOTHING_PARSED, invalid: invalidOf(error) };
  }
}

function invalidOf(error: SupagateError): InvalidFile {
  const { line, column } = error.details;
  return {
    code: error.code,
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(typeof line === 'number' ? { line } : {}),
    ...(typeof column === 'number' ? { column } : {}),
  };
}

/** For commands that run these files whatever their state (drift replays applied ones): every invalid file, in one error. */
export function assertRunnable(migrations: Migration[]): void {
  const invalid = migrations.filter((migration) => migration.invalid);
  const first = invalid[0]?.invalid;
  if (!first) return;
  throw new SupagateError(
    first.code,
    invalid.length === 1
      ? first.message
      : `${invalid.length} migration files cannot be run:\n${invalid.map((m) => `- ${m.invalid?.message}`).join('\n')}`,
    {
      ...(first.hint ? { hint: first.hint } : {}),
      details: { files: invalid.map((migration) => migration.path) },
    },
  );
}

async function readMigrationDir(
  projectDir: string,
  dir: string,
  warnings: FileWarning[],
  { required }: { required: boolean },
): Promise<(MigrationFile & { invalid?: InvalidFile })[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!required) return [];
    throw new SupagateError(
      'MIGRATIONS_DIR_MISSING',
      `No migrations directory at ${displayPath(projectDir, dir)}`,
      {
        hint: 'Run supagate from your project root, or pass --migrations-dir (the default is supabase/migrations).',
        details: { path: displayPath(projectDir, dir) },
      },
    );
  }

  const files: (MigrationFile & { invalid?: InvalidFile })[] = [];
  for (const name of entries.sort()) {
    const path = displayPath(projectDir, join(dir, name));
    if (!name.endsWith('.sql')) continue;
    const match = MIGRATION_FILE_PATTERN.exec(name);
    if (!match) {
      warnings.push({
        path,
        message:
          'file name does not match <version>_<name>.sql (e.g. 20240101120000_create_profiles.sql); skipped',
      });
      continue;
    }
    const absolutePath = join(dir, name);
    const { sql, invalid } = decodeUtf8(await readFile(absolutePath), path);
    // A rollback file is only read when it runs: refuse it as before.
    if (invalid && !required) {
      const { line, column } = invalid;
      throw new SupagateError(invalid.code, invalid.message, {
        ...(invalid.hint ? { hint: invalid.hint } : {}),
        details: { file: path, line, column },
      });
    }
    files.push({
      version: match[1] as string,
      name: match[2] as string,
      path,
      absolutePath,
      sql,
      checksum: checksumOf(sql),
      ...(invalid ? { invalid } : {}),
    });
  }

  files.sort((a, b) => compareVersions(a.version, b.version) || a.path.localeCompare(b.path));
  assertUniqueVersions(files);
  return files;
}

/** Every pair of files with the same version, in one error: their order would be undefined. */
function assertUniqueVersions(files: MigrationFile[]): void {
  const pairs: [MigrationFile, MigrationFile][] = [];
  for (let i = 1; i < files.length; i++) {
    const previous = files[i - 1] as MigrationFile;
    const current = files[i] as MigrationFile;
    if (compareVersions(previous.version, current.version) === 0) pairs.push([previous, current]);
  }
  const messages = pairs.map(([previous, current]) =>
    previous.version === current.version
      ? `Two files have version ${current.version}: ${previous.path} and ${current.path}`
      : `${previous.path} and ${current.path} have the same version number (${previous.version} = ${current.version}), so their order is undefined`,
  );
  const [first] = pairs;
  if (!first) return;
  throw new SupagateError(
    'MIGRATION_DUPLICATE_VERSION',
    messages.length === 1
      ? (messages[0] as string)
      : `${messages.length} duplicate versions:\n${messages.map((m) => `- ${m}`).join('\n')}`,
    {
      hint: 'Give one of them a new version, e.g. with `supabase migration new`, and move its SQL there.',
      details: {
        files: pairs.flatMap(([previous, current]) => [previous.path, current.path]),
        version: first[1].version,
      },
    },
  );
}

function decodeUtf8(bytes: Buffer, path: string): { sql: string; invalid?: InvalidFile } {
  try {
    return { sql: normalizeSource(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
  } catch {
    const lenient = normalizeSource(new TextDecoder('utf-8').decode(bytes));
    const { line, column } = lineColumnAt(lenient, Math.max(0, lenient.indexOf('\uFFFD')));
    return {
      sql: lenient,
      invalid: {
        code: 'MIGRATION_FILE_INVALID',
        message: `${path}:${line}:${column}: the file is not valid UTF-8`,
        hint: 'Save the file as UTF-8 (PostgreSQL and the Supabase CLI read migrations as UTF-8).',
        line,
        column,
      },
    };
  }
}

function displayPath(projectDir: string, path: string): string {
  const rel = relative(projectDir, path);
  return (rel.startsWith('..') ? path : rel).split(sep).join('/');
}
