import { readdir, stat } from 'node:fs/promises';
import { posix } from 'node:path';

/**
 * Glob patterns as the Supabase CLI matches `schema_paths` (Go's `fs.Glob` and `path.Match`):
 * `*` any run of characters but `/`, `?` one character but `/`, `[a-z]` / `[^a-z]` a class,
 * `\` escapes. No `**`: it is two `*`, so it matches within one folder. Each folder's entries
 * are matched in name order; a pattern without wildcards matches the path if it exists.
 */

export class BadPatternError extends Error {}

const META = /[*?[\\]/;

/** The paths matching `pattern` (posix, absolute or relative as the pattern is), files and folders alike. */
export async function glob(pattern: string): Promise<string[]> {
  compileSegment(pattern);
  return globFrom(pattern);
}

async function globFrom(pattern: string): Promise<string[]> {
  if (!META.test(pattern)) return (await exists(pattern)) ? [pattern] : [];
  const slash = pattern.lastIndexOf('/');
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : pattern.slice(0, slash);
  const name = pattern.slice(slash + 1);
  if (!META.test(dir)) return matchIn(dir, name, slash < 0);
  if (dir === pattern) throw new BadPatternError('syntax error in pattern');
  const matches: string[] = [];
  for (const parent of await globFrom(dir)) matches.push(...(await matchIn(parent, name, false)));
  return matches;
}

async function matchIn(dir: string, name: string, bare: boolean): Promise<string[]> {
  const matcher = compileSegment(name);
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort(compareNames);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => matcher.test(entry))
    .map((entry) => (bare ? entry : posix.join(dir, entry)));
}

/** Go sorts names by their bytes: compare UTF-8, not UTF-16 code units. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** One path segment's pattern as a regular expression; a malformed one throws BadPatternError. */
function compileSegment(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) throw new BadPatternError('a pattern ends with a backslash');
      source += literal(pattern[i] as string);
    } else if (c === '[') {
      const { regex, end } = characterClass(pattern, i + 1);
      source += regex;
      i = end;
    } else source += literal(c);
  }
  return new RegExp(`^${source}$`, 'u');
}

/** `[…]` from just after its `[`: the class and the index of its `]`. */
function characterClass(pattern: string, start: number): { regex: string; end: number } {
  let i = start;
  let negated = false;
  if (pattern[i] === '^') {
    negated = true;
    i++;
  }
  const ranges: string[] = [];
  for (;;) {
    if (i >= pattern.length) throw new BadPatternError('a character class is not closed');
    if (pattern[i] === ']' && ranges.length > 0) break;
    const low = classChar(pattern, i);
    i = low.next;
    if (pattern[i] === '-') {
      const high = classChar(pattern, i + 1);
      if (high.char < low.char) throw new BadPatternError('a character range is reversed');
      ranges.push(`${classLiteral(low.char)}-${classLiteral(high.char)}`);
      i = high.next;
    } else ranges.push(classLiteral(low.char));
  }
  return { regex: `[${negated ? '^/' : ''}${ranges.join('')}]`, end: i };
}

function classChar(pattern: string, i: number): { char: string; next: number } {
  let c = pattern[i];
  if (c === undefined || c === '-' || c === ']') throw new BadPatternError('a character class is malformed');
  if (c === '\\') {
    i++;
    c = pattern[i];
    if (c === undefined) throw new BadPatternError('a pattern ends with a backslash');
  }
  const char = String.fromCodePoint(c.codePointAt(0) as number);
  return { char: pattern.slice(i, i + char.length), next: i + char.length };
}

function literal(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function classLiteral(c: string): string {
  return c.replace(/[\\\]^-]/g, '\\$&');
}
