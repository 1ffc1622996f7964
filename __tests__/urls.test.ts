import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { resolveConfig } from '../src/core/config.js';
import { connect } from '../src/core/db/connect.js';
import { describeTarget } from '../src/core/db/redact.js';
import { assertDatabaseUrl } from '../src/core/db/url-check.js';
import { SupagateError } from '../src/core/errors.js';
import { rejection } from './harness/errors.js';

function failure(work: () => unknown): SupagateError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(SupagateError);
    return error as SupagateError;
  }
  throw new Error('expected a SupagateError');
}

const PASSWORD = 'S3cr#t/pa?ss';

describe('connection URLs', () => {
  it.each([
    ['#', `postgresql://postgres:${PASSWORD}@db.example.com:5432/postgres`],
    ['/', 'postgresql://postgres:ab/cdefgh@db.example.com:5432/postgres'],
    ['?', 'postgresql://postgres:ab?cdefgh@db.example.com/postgres'],
  ])('an unencoded %s in the password: encode it, and the password is never shown', (_char, url) => {
    const error = failure(() => resolveConfig({ dbUrl: url }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      'db-url: the connection string has a user name or password with characters that must be encoded',
    );
    expect(error.hint).toContain('encodeURIComponent');
    expect(error.hint).toContain('%23');
    expect(error.details).toEqual({ setting: 'db-url' });
    const shown = `${error.message} ${error.hint}`;
    for (const part of ['S3cr', 'cdefgh', 'db.example.com']) expect(shown).not.toContain(part);
  });

  it('accepts what the driver reads correctly: @ and : in the password, an encoded password', () => {
    for (const url of [
      'postgresql://postgres:p@ss:word@db.example.com:6543/postgres',
      `postgresql://postgres:${encodeURIComponent(PASSWORD)}@db.example.com/postgres`,
      'postgres://u@localhost/db',
      'postgresql://u:p@[::1]:5432/db',
      'postgresql://u:p@localhost/db?sslmode=require',
      'postgresql:///db?host=/var/run/postgresql',
    ]) {
      expect(() => assertDatabaseUrl('db-url', url)).not.toThrow();
    }
    expect(describeTarget(`postgresql://u:${encodeURIComponent(PASSWORD)}@h/db`).password).toBe(PASSWORD);
  });

  it('a port that is not a number names the setting', () => {
    const error = failure(() =>
      resolveConfig({ shadowUrl: 'postgresql://u:secretpw@localhost:54x2/postgres' }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('shadow-url: the connection string has a port that is not a number');
    expect(error.hint).toContain(':5432');
    expect(failure(() => assertDatabaseUrl('db-url', 'postgresql://u@h:99999/db')).message).toContain(
      'outside 1–65535',
    );
  });

  it('another database scheme is refused', () => {
    const error = failure(() => resolveConfig({ dbUrl: 'mysql://root:secretpw@localhost:3306/app' }));
    expect(error.message).toBe('db-url: the connection string uses the scheme mysql://, not postgresql://');
    expect(error.hint).toContain('postgresql://user:password@host:5432/database');
    expect(`${error.message}${error.hint}`).not.toContain('secretpw');
  });

  it('an empty host, or no URL at all, is refused', () => {
    expect(failure(() => resolveConfig({ dbUrl: 'postgresql://u:secretpw@/postgres' })).message).toBe(
      'db-url: the connection string has no host',
    );
    expect(failure(() => resolveConfig({ dbUrl: 'host=localhost dbname=app' })).message).toBe(
      'db-url: the connection string is not a connection URL',
    );
  });

  it('a stray % in the password is kept as written', () => {
    expect(describeTarget('postgresql://u:50%off@h/db').password).toBe('50%off');
  });

  it('connect checks the URL too, for the commands that take URLs as arguments', async () => {
    const error = await rejection(connect('postgresql://u:pw@h:port/db', { setting: '--from' }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('--from: the connection string has a port that is not a number');
  });
});

describe('the CLI with a bad URL', () => {
  it('prints the setting and the hint, not an internal error, and exits 1', async () => {
    for (const command of ['plan', 'status', 'apply']) {
      let stderr = '';
      const code = await runCli(
        [command, '--db-url', 'postgresql://postgres:pa#ss@db.example.com:5432/postgres'],
        {
          stdout: () => {},
          stderr: (text) => {
            stderr += text;
          },
          env: {},
        },
      );
      expect(code).toBe(1);
      expect(stderr).toContain(
        'error [CONFIG_INVALID]: --db-url: the connection string has a user name or password',
      );
      expect(stderr).toContain('hint: Percent-encode');
      expect(stderr).not.toContain('INTERNAL');
      expect(stderr).not.toContain('pa#ss');
    }
  });
});
