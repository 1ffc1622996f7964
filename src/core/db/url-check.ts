import { SupagateError } from '../errors.js';

const SCHEMES = new Set(['postgres:', 'postgresql:']);
const EXAMPLE = 'postgresql://user:password@host:5432/database';
const ENCODE_HINT =
  'Percent-encode the user name and password: @ : / ? # % and spaces must be written as %40 %3A %2F %3F %23 %25 %20. ' +
  `Print the encoded form with: node -e 'console.log(encodeURIComponent(process.argv[1]))' '<password>'`;

/**
 * Checks a connection string before anything connects, so a typo is a clear CONFIG_INVALID naming
 * the setting, not a driver's "Invalid URL". Messages never echo the URL: it holds a password.
 */
export function assertDatabaseUrl(setting: string, url: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
  if (!scheme) {
    throw invalidUrl(setting, 'is not a connection URL', `Write it as ${EXAMPLE}.`);
  }
  if (!SCHEMES.has(`${scheme.toLowerCase()}:`)) {
    throw invalidUrl(
      setting,
      `uses the scheme ${scheme}://, not postgresql://`,
      `supagate connects to PostgreSQL only: ${EXAMPLE}.`,
    );
  }
  if (userInfoNeedsEncoding(url)) {
    throw invalidUrl(
      setting,
      'has a user name or password with characters that must be encoded',
      ENCODE_HINT,
    );
  }
  const hostPort = checkPort(setting, url);
  const parsed = parse(url);
  if (hostPort === '' && !/[?&]host=[^&]/.test(url)) {
    throw invalidUrl(
      setting,
      'has no host',
      `Put the server's host name after the @: ${EXAMPLE} (a local socket: postgresql:///database?host=/var/run/postgresql).`,
    );
  }
  if (!parsed) throw invalidUrl(setting, 'cannot be parsed', `Write it as ${EXAMPLE}. ${ENCODE_HINT}`);
}

/**
 * The part between `://` and the last `@` holds `/ ? #` only when the password does, unencoded:
 * a URL parser then reads the rest as a path, query or fragment and connects to the wrong host
 * (`p@ss#word@db` is the host `ss`). A stray `%` is read as written.
 */
function userInfoNeedsEncoding(url: string): boolean {
  const rest = url.slice(url.indexOf('://') + 3);
  const at = rest.lastIndexOf('@');
  if (at < 0) return false;
  const userInfo = rest.slice(0, at);
  // An `@` in a query (`?options=a@b`) is not the end of a password.
  const hostAfter = /^(\[[^\]]*\]|[\w.-]*)(:[^/?#]*)?([/?#].*)?$/.test(rest.slice(at + 1));
  if (!hostAfter || userInfo.includes('=')) return /[\s]/.test(userInfo) && parse(url) === undefined;
  if (/[/?#]/.test(userInfo)) return true;
  return /\s/.test(userInfo) && parse(url) === undefined;
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The `host:port` part, once its port is known to be good. */
function checkPort(setting: string, url: string): string {
  const authority = url.slice(url.indexOf('://') + 3).split(/[/?#]/)[0] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const port = /:([^:\]]*)$/.exec(hostPort)?.[1];
  if (port !== undefined && !/^\d{1,5}$/.test(port)) {
    throw invalidUrl(
      setting,
      'has a port that is not a number',
      `Write the port as digits, e.g. ${EXAMPLE}.`,
    );
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw invalidUrl(
      setting,
      'has a port outside 1–65535',
      'PostgreSQL listens on 5432 unless configured otherwise.',
    );
  }
  return hostPort;
}

function invalidUrl(setting: string, problem: string, hint: string): SupagateError {
  return new SupagateError('CONFIG_INVALID', `${setting}: the connection string ${problem}`, {
    hint,
    details: { setting },
  });
}
