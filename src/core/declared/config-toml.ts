import { parse, TomlError } from 'smol-toml';
import { SupagateError } from '../errors.js';

/**
 * The one setting supagate reads from `supabase/config.toml`: `[db.migrations] schema_paths`,
 * the declared schema files and their order. The file is parsed whole (smol-toml), so that a
 * key of the same name in another table, a string or a comment is never taken for it.
 */

/** The patterns as written, or undefined when config.toml does not set them. */
export function schemaPathsOf(toml: string, file: string): string[] | undefined {
  let document: Record<string, unknown>;
  try {
    document = parse(toml);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'not TOML';
    throw invalid(`${file}:${error.line}: ${reason}`, file, error.line);
  }
  const migrations = tableAt(tableAt(document, 'db'), 'migrations');
  const value = migrations?.schema_paths;
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  throw invalid(
    `${file}: [db.migrations] schema_paths must be an array of strings, e.g. ["./schemas/*.sql"]`,
    file,
  );
}

function tableAt(
  parent: Record<string, unknown> | undefined,
  key: string,
): Record<string, unknown> | undefined {
  const value = parent?.[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function invalid(message: string, file: string, line?: number): SupagateError {
  return new SupagateError('DECLARED_SCHEMA_INVALID', message, {
    hint: 'Fix supabase/config.toml: the Supabase CLI reads it too, and refuses what does not parse.',
    details: { file, ...(line ? { line } : {}) },
  });
}
