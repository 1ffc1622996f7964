/**
 * Secrets supagate has seen (connection strings, their passwords, keys, tokens). Every message
 * that can reach a log and every rendered report passes through `redact`, so a driver error
 * that echoes a URL, or a migration that smuggles a value into a name, comment or error
 * message, still prints no secret.
 *
 * A distinctive secret is replaced wherever it appears. A short or word-like one (a password
 * such as `postgres`) is replaced only where it stands as a credential (in a URL's user info,
 * after `password=`), so ordinary words stay readable. Well-known token shapes (JWTs such as
 * Supabase's API keys, GitHub tokens, Stripe and AWS keys, private keys) are replaced whether
 * registered or not: production's schema can hold them in function bodies, and a plan shows
 * what a migration derives from that schema.
 */
const distinctive = new Set<string>();
const wordLike = new Set<string>();
let ordered: string[] | undefined;

const MASK = '***';

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 3) return;
  for (const form of [value, encodeURIComponent(value)]) {
    (isDistinctive(form) ? distinctive : wordLike).add(form);
  }
  ordered = undefined;
}

/** Long enough, or mixed enough, that replacing it everywhere garbles no ordinary text. */
function isDistinctive(secret: string): boolean {
  if (secret.length >= 16) return true;
  return secret.length >= 8 && !/^[a-z]+$/i.test(secret) && !/^\d+$/.test(secret);
}

export function knownSecrets(): string[] {
  return [...distinctive, ...wordLike];
}

const TOKEN_SHAPES: RegExp[] = [
  // JSON Web Tokens: Supabase's anon and service_role keys, auth tokens.
  /\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/g,
  /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})/g,
  /\bsb_secret_[\w-]{16,}/g,
  /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];

/** `scheme://user:password@` and `password=…` (libpq key/value strings, environment lines). */
const CREDENTIAL_CONTEXTS: [RegExp, string][] = [
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:\s/@]*:)[^@\s]*@/gi, `$1${MASK}@`],
  [/\b((?:PG)?PASSWORD=)('[^']*'|"[^"]*"|[^\s'"&;,)]+)/gi, `$1${MASK}`],
];

export function redact(text: string): string {
  // Longest first, so a URL is replaced whole before its password is.
  ordered ??= [...distinctive].sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of ordered) if (result.includes(secret)) result = result.split(secret).join(MASK);
  for (const shape of TOKEN_SHAPES) result = result.replace(shape, MASK);
  for (const [context, replacement] of CREDENTIAL_CONTEXTS) result = result.replace(context, replacement);
  for (const secret of wordLike) result = redactWordLike(result, secret);
  return result;
}

/** A word-like secret only where it is a credential: `:secret@`, `password=secret`. */
function redactWordLike(text: string, secret: string): string {
  if (!text.includes(secret)) return text;
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text
    .replace(new RegExp(`(:)${escaped}(@)`, 'g'), `$1${MASK}$2`)
    .replace(new RegExp(`(password["']?\\s*[=:]\\s*['"]?)${escaped}(?![\\w])`, 'gi'), `$1${MASK}`);
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
  const password = parsed.password ? decodeLoosely(parsed.password) : undefined;
  registerSecret(password);
  const database = decodeLoosely(parsed.pathname.replace(/^\//, '')) || 'postgres';
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  const port = parsed.port || '5432';
  return {
    label: `database "${database}" on ${host}:${port}`,
    database,
    host,
    port,
    user: decodeLoosely(parsed.username),
    password,
  };
}

/** A stray `%` (a password written unencoded) is kept as written, as the driver does. */
function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
