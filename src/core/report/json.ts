import { redact } from '../db/redact.js';
import { SupagateError } from '../errors.js';

/**
 * JSON output of every command: the typed result as is, with `ok`. Field names are part of
 * the interface; change them only with a major version.
 */
export function renderJson(result: object, ok: boolean): string {
  return JSON.stringify({ ok, ...result }, redactStrings, 2);
}

export function renderJsonError(command: string, error: unknown): string {
  const body =
    error instanceof SupagateError
      ? error.toJSON()
      : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), details: {} };
  return JSON.stringify({ ok: false, command, error: body }, redactStrings, 2);
}

/** Each string before JSON escapes it, so a secret with a quote or backslash still matches. */
function redactStrings(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? redact(value) : value;
}
