import { SupagateError } from '../errors.js';

/**
 * The one setting supagate reads from `supabase/config.toml`: `[db.migrations] schema_paths`.
 * A reader of the TOML syntax, not a TOML library: it walks every table header and key/value
 * pair (strings of the four kinds, arrays, inline tables, bare values) so that a key of the
 * same name elsewhere, in a string or a comment, is never mistaken for it, and returns that
 * one value. The rest of the file is only skipped over.
 */

const SCHEMA_PATHS = ['db', 'migrations', 'schema_paths'];

/** The patterns as written, or undefined when config.toml does not set them. */
export function schemaPathsOf(toml: string, file: string): string[] | undefined {
  const reader = new TomlReader(toml, file);
  let table: string[] = [];
  let found: string[] | undefined;
  for (;;) {
    reader.skipBlank();
    if (reader.done()) return found;
    if (reader.peek() === '[') {
      table = reader.tableHeader();
    } else {
      const key = [...table, ...reader.dottedKey()];
      reader.expect('=');
      const value = reader.value();
      if (sameKey(key, SCHEMA_PATHS)) found = stringList(value, reader);
    }
    reader.endOfLine();
  }
}

type TomlValue = string | TomlValue[] | { table: true } | { bare: string };

function sameKey(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

function stringList(value: TomlValue, reader: TomlReader): string[] {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw reader.error('[db.migrations] schema_paths must be an array of strings, e.g. ["./schemas/*.sql"]');
}

const BARE_KEY = /[A-Za-z0-9_-]/;
const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };

class TomlReader {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text[this.at + offset] ?? '';
  }

  /** Spaces, tabs, newlines and comments. */
  skipBlank(): void {
    for (;;) {
      this.skipSpaces();
      const c = this.peek();
      if (c === '\n' || c === '\r') this.at++;
      else if (c === '#') this.skipComment();
      else return;
    }
  }

  expect(char: string): void {
    this.skipSpaces();
    if (this.peek() !== char) throw this.error(`expected "${char}"`);
    this.at++;
  }

  /** After a header or a key/value pair: only a comment may follow on its line. */
  endOfLine(): void {
    this.skipSpaces();
    if (this.peek() === '#') this.skipComment();
    if (!this.done() && this.peek() !== '\n' && this.peek() !== '\r')
      throw this.error('expected the end of the line');
  }

  /** `[a.b]` or `[[a.b]]`; an array of tables is never the one we read, so its name is marked. */
  tableHeader(): string[] {
    this.at++;
    const arrayOfTables = this.peek() === '[';
    if (arrayOfTables) this.at++;
    const key = this.dottedKey();
    this.expect(']');
    if (arrayOfTables) this.expect(']');
    return arrayOfTables ? [...key, '[]'] : key;
  }

  dottedKey(): string[] {
    const parts = [this.keyPart()];
    for (;;) {
      this.skipSpaces();
      if (this.peek() !== '.') return parts;
      this.at++;
      parts.push(this.keyPart());
    }
  }

  value(): TomlValue {
    this.skipSpaces();
    const c = this.peek();
    if (c === '"' || c === "'") return this.string();
    if (c === '[') return this.array();
    if (c === '{') return this.inlineTable();
    const start = this.at;
    // Numbers, booleans, dates and times (which may hold one space between date and time).
    while (!this.done() && !/[,\]}#\n\r]/.test(this.peek())) this.at++;
    const bare = this.text.slice(start, this.at).trim();
    if (bare.length === 0) throw this.error('expected a value');
    return { bare };
  }

  error(message: string): SupagateError {
    const line = this.text.slice(0, this.at).split('\n').length;
    return new SupagateError('DECLARED_SCHEMA_INVALID', `${this.file}:${line}: ${message}`, {
      hint: 'Fix supabase/config.toml: the Supabase CLI reads the same file, and refuses it too.',
      details: { file: this.file, line },
    });
  }

  private keyPart(): string {
    this.skipSpaces();
    const c = this.peek();
    if (c === '"' || c === "'") return this.string();
    const start = this.at;
    while (BARE_KEY.test(this.peek())) this.at++;
    if (this.at === start) throw this.error('expected a key');
    return this.text.slice(start, this.at);
  }

  private array(): TomlValue[] {
    this.at++;
    const items: TomlValue[] = [];
    for (;;) {
      this.skipBlank();
      if (this.peek() === ']') break;
      items.push(this.value());
      this.skipBlank();
      if (this.peek() === ',') this.at++;
      else if (this.peek() !== ']') throw this.error('expected "," or "]" in an array');
    }
    this.at++;
    return items;
  }

  private inlineTable(): TomlValue {
    this.at++;
    this.skipSpaces();
    if (this.peek() === '}') {
      this.at++;
      return { table: true };
    }
    for (;;) {
      this.dottedKey();
      this.expect('=');
      this.value();
      this.skipSpaces();
      const c = this.peek();
      this.at++;
      if (c === '}') return { table: true };
      if (c !== ',') throw this.error('expected "," or "}" in an inline table');
    }
  }

  private string(): string {
    const quote = this.peek();
    const multiline = this.peek(1) === quote && this.peek(2) === quote;
    this.at += multiline ? 3 : 1;
    // A newline right after the opening quotes is not part of a multi-line string.
    if (multiline && this.peek() === '\n') this.at++;
    else if (multiline && this.peek() === '\r' && this.peek(1) === '\n') this.at += 2;
    let value = '';
    for (;;) {
      if (this.done()) throw this.error('a string is not closed');
      const c = this.peek();
      if (c === quote && !multiline) {
        this.at++;
        return value;
      }
      if (c === quote) {
        // The closing quotes are the last three of a run: up to two before them are the string's.
        let run = 0;
        while (this.peek(run) === quote && run < 5) run++;
        this.at += run;
        if (run >= 3) return value + quote.repeat(run - 3);
        value += quote.repeat(run);
        continue;
      }
      if (!multiline && (c === '\n' || c === '\r')) throw this.error('a string is not closed on its line');
      if (c === '\\' && quote === '"') {
        value += this.escape(multiline);
        continue;
      }
      value += c;
      this.at++;
    }
  }

  private escape(multiline: boolean): string {
    this.at++;
    const c = this.peek();
    if (multiline && /[ \t\r\n]/.test(c)) {
      // A line-ending backslash joins the lines: the whitespace after it goes.
      while (/[ \t\r\n]/.test(this.peek())) this.at++;
      return '';
    }
    const simple = ESCAPES[c];
    if (simple !== undefined) {
      this.at++;
      return simple;
    }
    if (c === 'u' || c === 'U') {
      const length = c === 'u' ? 4 : 8;
      const hex = this.text.slice(this.at + 1, this.at + 1 + length);
      if (!new RegExp(`^[0-9A-Fa-f]{${length}}$`).test(hex)) throw this.error('invalid unicode escape');
      this.at += 1 + length;
      return String.fromCodePoint(Number.parseInt(hex, 16));
    }
    throw this.error(`invalid escape \\${c}`);
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.at++;
  }

  private skipComment(): void {
    while (!this.done() && this.peek() !== '\n') this.at++;
  }
}
