import pg from 'pg';
import { SupagateError } from '../errors.js';
import { type DatabaseTarget, describeTarget, redact } from './redact.js';
import { assertDatabaseUrl } from './url-check.js';

export type Client = pg.Client;

export interface ConnectOptions {
  applicationName?: string;
  /** Every transaction of the session is read-only (`default_transaction_read_only`). */
  readOnly?: boolean;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** What error messages call the URL (`db-url`, `--from`). */
  setting?: string;
}

export interface Connection {
  client: pg.Client;
  target: DatabaseTarget;
}

export async function connect(url: string, options: ConnectOptions = {}): Promise<Connection> {
  assertDatabaseUrl(options.setting ?? 'database URL', url);
  const target = describeTarget(url);
  const settings: string[] = [];
  if (options.readOnly) settings.push('-c default_transaction_read_only=on');
  if (options.statementTimeoutMs !== undefined)
    settings.push(`-c statement_timeout=${options.statementTimeoutMs}`);
  const client = new pg.Client({
    connectionString: url,
    application_name: options.applicationName ?? 'supagate',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 15_000,
    ...(settings.length > 0 ? { options: settings.join(' ') } : {}),
  });
  // An idle connection that the server drops must not crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new SupagateError(
      'DB_CONNECT_FAILED',
      `Could not connect to ${target.label}: ${errorText(error)}`,
      {
        hint: 'Check the connection string (host, port, user, password, database) and that the server accepts connections from here.',
        details: { target: target.label },
        cause: error,
      },
    );
  }
  return { client, target };
}

export async function disconnect(connection: Connection | undefined): Promise<void> {
  await connection?.client.end().catch(() => {});
}

/**
 * The session is gone: terminated by an administrator, the server shut down or restarted, or the
 * network dropped. What the session held (transaction, advisory lock) ended with it.
 */
export function isConnectionLost(error: unknown): boolean {
  const e = error as { code?: unknown; sqlstate?: unknown; message?: unknown } | undefined;
  const code = String(e?.code ?? e?.sqlstate ?? '');
  if (/^08/.test(code) || /^57P0[123]$/.test(code)) return true;
  return /Connection terminated|not queryable|ECONNRESET|ECONNREFUSED|EPIPE|server closed the connection/i.test(
    String(e?.message ?? ''),
  );
}

function errorText(error: unknown): string {
  return redact(error instanceof Error ? error.message : String(error));
}

/** The fields of a PostgreSQL error that reports need. */
export interface PgErrorFields {
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
  position?: string;
  where?: string;
}

export function pgErrorFields(error: unknown): PgErrorFields {
  const e = error as Partial<PgErrorFields> & { message?: string };
  return {
    message: redact(e?.message ?? String(error)),
    ...(e?.code ? { code: e.code } : {}),
    ...(e?.detail ? { detail: redact(e.detail) } : {}),
    ...(e?.hint ? { hint: e.hint } : {}),
    ...(e?.position ? { position: e.position } : {}),
    ...(e?.where ? { where: e.where } : {}),
  };
}
