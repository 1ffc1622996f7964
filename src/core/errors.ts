/**
 * The one error type supagate raises for anything a user can hit. Every error carries a
 * stable code (for scripts and tests), a message that says what went wrong and where, and
 * a hint that says what to do about it.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'TARGET_NOT_SUPABASE'
  | 'MIGRATIONS_DIR_MISSING'
  | 'MIGRATION_FILE_INVALID'
  | 'MIGRATION_DUPLICATE_VERSION'
  | 'MIGRATION_PARSE_ERROR'
  | 'MIGRATION_TRANSACTION_CONTROL'
  | 'HISTORY_OUT_OF_ORDER'
  | 'HISTORY_MISSING_LOCAL'
  | 'HISTORY_APPLIED_AS_OTHER_VERSION'
  | 'HISTORY_EDITED'
  | 'HISTORY_MISSING'
  | 'REPAIR_FINGERPRINT_MISMATCH'
  | 'DB_CONNECT_FAILED'
  | 'DB_CONNECTION_LOST'
  | 'INTERRUPTED'
  | 'LOCK_TIMEOUT'
  | 'ATOMIC_ALL_REFUSED'
  | 'MIGRATION_FAILED'
  | 'PG_TOOL_MISSING'
  | 'ROLLBACK_MISSING_DOWN'
  | 'PLAN_FAILED'
  | 'DECLARED_SCHEMA_INVALID'
  | 'COPY_TARGET_NOT_EMPTY'
  | 'CONFIRMATION_REQUIRED'
  | 'SHADOW_FAILED'
  | 'SHADOW_UNSAFE'
  | 'SHADOW_IS_PRODUCTION'
  | 'CLONE_FAILED'
  | 'INTERNAL'
  | 'BACKUP_FAILED'
  | 'BACKUP_UNVERIFIED'
  | 'BACKUP_NOT_FOUND'
  | 'BACKUP_KEY_INVALID'
  | 'BACKUP_DECRYPT_FAILED'
  | 'BACKUP_STORE_FAILED'
  | 'BACKUP_STORE_PUBLIC'
  | 'BACKUP_UNENCRYPTED_ARTIFACT'
  | 'VERIFY_FAILED'
  | 'VERIFY_COUNT_FAILED'
  | 'VERIFY_PROBE_FAILED'
  | 'RESTORE_FAILED'
  | 'RESTORE_UNSAFE'
  | 'RESTORE_TARGET_MISMATCH'
  | 'RESTORE_WOULD_LOSE_WRITES'
  | 'GITHUB_CONTEXT_INVALID'
  | 'GITHUB_TOKEN_MISSING'
  | 'GITHUB_FORBIDDEN'
  | 'GITHUB_NOT_FOUND'
  | 'GITHUB_RATE_LIMITED'
  | 'GITHUB_API_FAILED'
  | 'GITHUB_PR_NOT_FOUND'
  | 'APPROVAL_MISSING'
  | 'STORAGE_COPY_FORBIDDEN'
  | 'STORAGE_COPY_FAILED';

export interface ErrorOptions {
  hint?: string;
  /** Structured context for the JSON report: file, line, SQLSTATE, … */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class SupagateError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SupagateError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; details: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      details: this.details,
    };
  }
}

export function isSupagateError(error: unknown): error is SupagateError {
  return error instanceof SupagateError;
}
