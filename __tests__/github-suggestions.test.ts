import { describe, expect, it } from 'vitest';
import type { Hazard, HazardFix } from '../src/core/schema/hazards.js';
import { hunkRanges, type SuggestionInput, suggestionComments } from '../src/github/suggestions.js';

/** Which safe rewrites become review comments, where, and as a suggestion or as SQL. */
const FILE = 'supabase/migrations/2_change.sql';
const TEXT = [
  '-- the new client calls it handle',
  'alter table public.profiles',
  '  rename column username to handle;',
  'create index items_name_idx on public.items (name); select 1;',
  'create function public.f() returns int language sql security definer',
  'as $$ select 1 $$;',
  '',
].join('\n');

function hazard(code: Hazard['code'], line: number, statement: string, fix: HazardFix): Hazard {
  return {
    code,
    category: 'locking',
    severity: 'warning',
    message: code,
    location: { path: FILE, version: '2', line, statementIndex: 0, statement },
    fix,
  };
}

const RENAME = hazard(
  'rename-breaks-clients',
  2,
  'alter table public.profiles\n  rename column username to handle',
  {
    summary: 'Expand/contract',
    sql: 'ALTER TABLE public.profiles ADD COLUMN handle text;',
    placement: 'replace',
    ownFile: false,
    later: { when: 'every client uses handle', sql: 'ALTER TABLE public.profiles DROP COLUMN username;' },
  },
);
const INDEX = hazard('index-not-concurrent', 4, 'create index items_name_idx on public.items (name)', {
  summary: 'Build it concurrently',
  sql: 'create index concurrently items_name_idx on public.items (name);',
  placement: 'replace',
  ownFile: true,
});
const DEFINER = hazard(
  'security-definer-search-path',
  5,
  'create function public.f() returns int language sql security definer\nas $$ select 1 $$',
  {
    summary: 'Pin the search_path',
    sql: "ALTER FUNCTION public.f() SET search_path = '';",
    placement: 'after',
    ownFile: false,
  },
);

function input(overrides: Partial<SuggestionInput> = {}): SuggestionInput {
  return {
    hazards: [RENAME, INDEX, DEFINER],
    toRepoPath: (path) => `db/${path}`,
    hunks: new Map([[`db/${FILE}`, [{ start: 1, end: 6 }]]]),
    fileText: (path) => (path === FILE ? TEXT : undefined),
    posted: [],
    ...overrides,
  };
}

describe('safe rewrites as review comments', () => {
  it('suggests a replacing rewrite on the statement’s lines, and gives the others as SQL', () => {
    const comments = suggestionComments(input());
    expect(comments.map(({ body: _body, ...where }) => where)).toEqual([
      { path: `db/${FILE}`, line: 3, start_line: 2, side: 'RIGHT' },
      { path: `db/${FILE}`, line: 4, side: 'RIGHT' },
      { path: `db/${FILE}`, line: 6, start_line: 5, side: 'RIGHT' },
    ]);
    const [rename, index, definer] = comments.map((c) => c.body);
    expect(rename).toMatch(
      /^<!-- supagate:suggestion [0-9a-f]{16} -->\n\*\*supagate\*\* `rename-breaks-clients`/,
    );
    expect(rename).toContain('```suggestion\nALTER TABLE public.profiles ADD COLUMN handle text;\n```');
    expect(rename).toContain(
      'once every client uses handle:\n```sql\nALTER TABLE public.profiles DROP COLUMN username;\n```',
    );
    // A file of its own, or a line shared with another statement: not a one-click replacement.
    expect(index).not.toContain('```suggestion');
    expect(index).toContain('in a migration file of its own:\n```sql\ncreate index concurrently');
    expect(definer).toContain('Add this right after the statement:\n```sql\nALTER FUNCTION');
  });

  it('gives SQL, not a suggestion, when the statement shares its lines', () => {
    const shared = { ...INDEX, fix: { ...(INDEX.fix as HazardFix), ownFile: false } };
    const [comment] = suggestionComments(input({ hazards: [shared] }));
    expect(comment?.body).not.toContain('```suggestion');
    expect(comment?.body).toContain('Use this instead of the statement:\n```sql');
  });

  it('leaves out statements whose lines are not all in one hunk of the diff, and files outside it', () => {
    const hunks = new Map([
      [
        `db/${FILE}`,
        [
          { start: 1, end: 2 },
          { start: 3, end: 4 },
        ],
      ],
    ]);
    expect(suggestionComments(input({ hunks })).map((c) => c.line)).toEqual([4]);
    expect(suggestionComments(input({ hunks: new Map() }))).toEqual([]);
    expect(suggestionComments(input({ fileText: () => undefined }))).toEqual([]);
  });

  it('leaves out what was posted before, unless the SQL changed', () => {
    const first = suggestionComments(input());
    expect(suggestionComments(input({ posted: first }))).toEqual([]);
    const changed = { ...RENAME, fix: { ...(RENAME.fix as HazardFix), sql: 'ALTER TABLE x;' } };
    const again = suggestionComments(input({ hazards: [changed, INDEX, DEFINER], posted: first }));
    expect(again.map((c) => c.line)).toEqual([3]);
  });

  it('uses a longer fence when the SQL holds backticks', () => {
    const odd = {
      ...RENAME,
      fix: { ...(RENAME.fix as HazardFix), sql: 'ALTER TABLE "a```b" ADD COLUMN c int;' },
    };
    const [comment] = suggestionComments(input({ hazards: [odd] }));
    expect(comment?.body).toContain('````suggestion\nALTER TABLE "a```b" ADD COLUMN c int;\n````');
  });

  it('reads the new side of each hunk from a patch', () => {
    const patch = '@@ -0,0 +1,3 @@\n+a\n+b\n+c\n@@ -10,2 +12 @@ fn\n x\n@@ -20,1 +22,0 @@\n-gone';
    expect(hunkRanges(patch)).toEqual([
      { start: 1, end: 3 },
      { start: 12, end: 12 },
    ]);
    expect(hunkRanges(undefined)).toEqual([]);
  });
});
