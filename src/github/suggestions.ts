import { createHash } from 'node:crypto';
import { codeBlock, inline } from '../core/report/escape.js';
import type { Hazard, HazardFix } from '../core/schema/hazards.js';

/**
 * Which safe rewrites go on the pull request's lines, and as what: decided here without any
 * call to GitHub. A fix that replaces its statement becomes a review comment with a
 * ```suggestion block on the statement's lines (GitHub's suggested change: the author commits
 * it in one click); one that must go in a file of its own, or after the statement, a comment
 * with its SQL. Only on lines the pull request's diff shows (GitHub refuses others with 422),
 * and never twice: each comment carries a hidden marker of its file, lines and SQL.
 */

/** One comment of a review (the `comments` items of POST …/pulls/{n}/reviews). */
export interface SuggestionComment {
  path: string;
  /** The statement's last line; with `start_line`, the range's end. */
  line: number;
  /** The statement's first line, when it spans more than one. */
  start_line?: number;
  side: 'RIGHT';
  body: string;
}

/** A review comment supagate posted before, as GitHub lists it. */
export interface PostedComment {
  body: string;
}

/** Lines of the new version of a file that the pull request's diff shows (a hunk each). */
export interface LineRange {
  start: number;
  end: number;
}

export interface SuggestionInput {
  hazards: Hazard[];
  /** A finding's path (relative to the project) as a path in the repository. */
  toRepoPath: (path: string) => string;
  /** The hunks of each file the pull request changes, by repository path. */
  hunks: ReadonlyMap<string, LineRange[]>;
  /** The text of a migration at the pull request's head, by its path relative to the project. */
  fileText: (path: string) => string | undefined;
  /** supagate's review comments already on the pull request. */
  posted: PostedComment[];
}

const MARKER = /<!-- supagate:suggestion ([0-9a-f]{16}) -->/;

/** The review comments to post now: in the diff, not posted before, in file and line order. */
export function suggestionComments(input: SuggestionInput): SuggestionComment[] {
  const posted = new Set(input.posted.map((c) => MARKER.exec(c.body)?.[1]).filter(Boolean));
  const comments = new Map<string, SuggestionComment>();
  for (const hazard of input.hazards) {
    const { fix, location } = hazard;
    if (!fix || !location) continue;
    const lines = statementLines(input.fileText(location.path), location.line, location.statement);
    if (!lines) continue;
    const path = input.toRepoPath(location.path);
    const hunks = input.hunks.get(path) ?? [];
    if (!hunks.some((h) => h.start <= lines.start && lines.end <= h.end)) continue;
    const key = suggestionKey(path, lines, fix);
    if (posted.has(key) || comments.has(key)) continue;
    comments.set(key, {
      path,
      line: lines.end,
      ...(lines.start < lines.end ? { start_line: lines.start } : {}),
      side: 'RIGHT',
      body: commentBody(hazard.code, fix, key, lines.whole),
    });
  }
  return [...comments.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line,
  );
}

/**
 * The 1-based lines a statement spans in its file, and whether it has them to itself (only
 * blanks before it on its first line; only its semicolon and blanks after it on its last):
 * only then can a suggestion replace those lines with the rewrite.
 */
function statementLines(
  text: string | undefined,
  line: number,
  statement: string,
): (LineRange & { whole: boolean }) | undefined {
  if (text === undefined) return undefined;
  const fileLines = text.split(/\r?\n/);
  const end = line + statement.split(/\r?\n/).length - 1;
  if (line < 1 || end > fileLines.length) return undefined;
  const spanned = fileLines.slice(line - 1, end).join('\n');
  const at = spanned.indexOf(statement);
  if (at < 0) return undefined;
  const whole = spanned.slice(0, at).trim() === '' && /^\s*;?\s*$/.test(spanned.slice(at + statement.length));
  return { start: line, end, whole };
}

/** Of a file's lines, their path and the fix's SQL: what makes a suggestion the same one. */
function suggestionKey(path: string, lines: LineRange, fix: HazardFix): string {
  const identity = JSON.stringify([
    path,
    lines.start,
    lines.end,
    fix.placement,
    fix.sql,
    fix.later?.sql ?? '',
  ]);
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

function commentBody(code: string, fix: HazardFix, key: string, whole: boolean): string {
  const intro = `**supagate** \`${code}\`: ${inline(fix.summary)}.`;
  const later = fix.later
    ? `\n\nThen, in a later migration, once ${inline(fix.later.when)}:\n${codeBlock(fix.later.sql, 'sql')}`
    : '';
  let main: string;
  if (fix.placement === 'replace' && !fix.ownFile && whole) {
    main = `Commit this suggestion to use it instead of the statement:\n${codeBlock(fix.sql, 'suggestion')}`;
  } else {
    const where =
      fix.placement === 'after' ? 'Add this right after the statement' : 'Use this instead of the statement';
    main = `${where}${fix.ownFile ? ', in a migration file of its own' : ''}:\n${codeBlock(fix.sql, 'sql')}`;
  }
  return `<!-- supagate:suggestion ${key} -->\n${intro} ${main}${later}`;
}

/**
 * The lines of the new version a unified diff's hunks show (`@@ -a,b +c,d @@`: lines c to
 * c+d-1), from the `patch` GitHub gives for each file of a pull request.
 */
export function hunkRanges(patch: string | undefined): LineRange[] {
  if (!patch) return [];
  return [...patch.matchAll(/^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/gm)].flatMap((m) => {
    const start = Number(m[1]);
    const count = m[2] === undefined ? 1 : Number(m[2]);
    return count > 0 ? [{ start, end: start + count - 1 }] : [];
  });
}

/** Whether a review comment is one supagate posted (its hidden marker). */
export function isSuggestionComment(body: string | undefined): boolean {
  return body !== undefined && MARKER.test(body);
}
