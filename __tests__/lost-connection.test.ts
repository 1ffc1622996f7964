import { describe, expect, it } from 'vitest';
import { lostOutsideMigrations } from '../src/core/commands/lost-connection.js';
import { isConnectionLost } from '../src/core/db/connect.js';
import { describeTarget } from '../src/core/db/redact.js';
import { SupagateError } from '../src/core/errors.js';
import type { AppliedMigration } from '../src/core/migrations/execute.js';

const target = describeTarget('postgresql://postgres:s3cret-pw@db.example.com:5432/postgres');
const terminated = Object.assign(new Error('terminating connection due to administrator command'), {
  code: '57P01',
});

describe('a connection lost outside the migrations', () => {
  it('tells a lost connection from other errors', () => {
    expect(isConnectionLost(terminated)).toBe(true);
    expect(isConnectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLost({ code: '08006', message: 'connection failure' })).toBe(true);
    expect(isConnectionLost({ code: '57014', message: 'canceling statement due to user request' })).toBe(
      false,
    );
    expect(isConnectionLost(new Error('relation "x" does not exist'))).toBe(false);
  });

  it('before any migration: nothing was applied', () => {
    const error = lostOutsideMigrations(terminated, target) as SupagateError;
    expect(error.code).toBe('DB_CONNECTION_LOST');
    expect(error.message).toBe(
      'The connection to database "postgres" on db.example.com:5432 was lost before any migration ran: terminating connection due to administrator command',
    );
    expect(error.hint).toContain('Nothing was applied');
  });

  it('after the migrations: they are applied, verification did not finish', () => {
    const applied = [{ path: 'supabase/migrations/1_a.sql' }, { path: 'supabase/migrations/2_b.sql' }];
    const error = lostOutsideMigrations(terminated, target, applied as AppliedMigration[]) as SupagateError;
    expect(error.message).toBe(
      'The connection to database "postgres" on db.example.com:5432 was lost after applying 2 migration(s), before verification finished: terminating connection due to administrator command',
    );
    expect(error.hint).toBe(
      'Applied: 1_a.sql, 2_b.sql (`supagate status` shows the history). Run `supagate verify` once the database accepts connections.',
    );
  });

  it('leaves other errors as they are', () => {
    const other = new SupagateError('BACKUP_FAILED', 'Backup failed');
    expect(lostOutsideMigrations(other, target)).toBe(other);
    const plain = new Error('boom');
    expect(lostOutsideMigrations(plain, target)).toBe(plain);
  });
});
