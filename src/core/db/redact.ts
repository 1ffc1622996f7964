/**
 * Secrets supagate has seen (connection strings and their passwords). Every message that
 * can reach a log passes through `redact`, so a driver error that echoes a URL still
 * prints no password.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 3) return;
  secrets.add(value);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) secrets.add(encoded);
}

export function knownSecrets(): string[] {
  return [...secrets];
}

export function redact(text: string): string {
  let result = text;
  // Longest first, so a URL is replaced whole before its password is.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    result = result.split(secret).join('***');
  }
  // Any other URL with credentials that slipped in.
  return result.replace(/(postgres(?:ql)?:\/\/[^:\s/@]*:)[^@\s]*@/gi, '$1***@');
}

export interface DatabaseTarget {
  /** What messages call the database: `database "postgres" on db.example.com:5432`. No user, no password. */
  label: string;
  database: string;
  host: string;
  port: string;
  user: string;
  password: string | undefined;
}

/** Parses a connection string and registers its secrets. */
export function describeTarget(url: string): DatabaseTarget {
  registerSecret(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {
      label: 'the database (unparsable URL)',
      database: '',
      host: '',
      port: '',
      user: '',
      password: undefined,
    };
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  registerSecret(password);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  const port = parsed.port || '5432';
  return {
    label: `database "${database}" on ${host}:${port}`,
    database,
    host,
    port,
    user: decodeURIComponent(parsed.username),
    password,
  };
}
