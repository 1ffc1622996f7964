import { describe, expect, it } from 'vitest';
import type { PlanResult } from '../src/core/commands/plan.js';
import { planGate } from '../src/core/commands/plan-gate.js';
import { code, codeBlock, htmlCode, inline, tableRow } from '../src/core/report/escape.js';
import { COMMENT_LIMIT, githubFileUrl, renderPlanMarkdown } from '../src/core/report/markdown.js';
import { renderPlan } from '../src/core/report/text.js';
import type { ObjectChange } from '../src/core/schema/changes.js';
import type { Hazard } from '../src/core/schema/hazards.js';

function planResult(overrides: Partial<PlanResult> = {}): PlanResult {
  return {
    command: 'plan',
    status: 'planned',
    target: 'database "postgres" on db.example.com:5432',
    planHash: 'a'.repeat(64),
    productionFingerprint: 'b'.repeat(64),
    blocking: false,
    blockingReasons: [],
    pending: [
      {
        version: '20240101000000',
        name: 'tables',
        path: 'supabase/migrations/20240101000000_tables.sql',
        checksum: 'c'.repeat(64),
        mode: 'transaction',
        statementCount: 3,
        hasRollback: false,
      },
    ],
    problems: [],
    diff: { changes: [] },
    hazards: [],
    lints: { introduced: [], resolved: [], existingCount: 0 },
    access: [],
    shadow: { source: 'embedded', serverVersion: 150018, warnings: [], standIns: [] },
    durationMs: 1,
    ...overrides,
  };
}

function tableChange(i: number): ObjectChange {
  const ddl = Array.from({ length: 12 }, (_, c) => `  column_${c} text,`).join('\n');
  return {
    kind: 'table',
    id: `public.table_${String(i).padStart(4, '0')}`,
    action: 'added',
    attributes: [],
    members: [],
    ddl: {
      before: null,
      after: `CREATE TABLE public.table_${i} (\n${ddl}\n  id bigint PRIMARY KEY\n);`,
      diff: null,
    },
  };
}

describe('plan markdown', () => {
  it('fits a GitHub comment with a 1,000-table change, saying it was shortened and where the full report is', () => {
    const result = planResult({ diff: { changes: Array.from({ length: 1000 }, (_, i) => tableChange(i)) } });
    const full = renderPlanMarkdown(result, { limit: Number.POSITIVE_INFINITY });
    expect(full.length).toBeGreaterThan(COMMENT_LIMIT);
    const comment = renderPlanMarkdown(result, {
      fullReportUrl: 'https://github.com/acme/app/actions/runs/1',
    });
    expect(comment.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(comment).toContain('This report was shortened to fit a GitHub comment.');
    expect(comment).toContain('[Full report](https://github.com/acme/app/actions/runs/1)');
    expect(comment).toContain('Schema changes (1000)');
    // Balanced collapsible sections: trimming never cuts one open.
    expect(comment.split('<details>').length).toBe(comment.split('</details>').length);
  });

  it('names the stand-in extensions the shadow ran on and what each cannot predict', () => {
    const markdown = renderPlanMarkdown(
      planResult({
        shadow: {
          source: 'embedded',
          serverVersion: 150018,
          warnings: [],
          standIns: [
            { name: 'pg_net', cannotPredict: 'the responses of HTTP requests' },
            { name: 'vector', cannotPredict: 'index build time' },
          ],
        },
      }),
    );
    expect(markdown).toContain('> [!NOTE]\n> The embedded shadow server has no `pg_net`, `vector`');
    expect(markdown).toContain(
      '> - for `pg_net`: the responses of HTTP requests\n> - for `vector`: index build time',
    );
    expect(renderPlanMarkdown(planResult())).not.toContain('stand-in');
  });

  it('keeps the untrimmed report when it fits', () => {
    const result = planResult({ diff: { changes: [tableChange(1)] } });
    const text = renderPlanMarkdown(result);
    expect(text).not.toContain('shortened');
    expect(text).toContain('CREATE TABLE public.table_1');
  });

  it('renders names, comments and SQL from migrations without HTML, links or mentions', () => {
    const evil =
      '<img src=x onerror=alert(1)> @octocat [click](http://evil.example) #1 </details> **bold** | pipe ` tick _em_ &lt; www.evil.example $x$';
    const result = planResult({
      blocking: true,
      blockingReasons: [
        `drop-table at supabase/migrations/1_${evil}.sql:1: Table public."${evil}" is dropped`,
        `drop-column: ${evil}`,
      ],
      hazards: [
        {
          code: 'drop-table',
          category: 'data-loss',
          severity: 'blocking',
          message: `Table ${evil} is dropped`,
          object: evil,
          location: {
            path: `supabase/migrations/1_${evil}.sql`,
            version: '1',
            line: 1,
            statementIndex: 0,
            statement: 'x',
          },
          accepted: { source: 'migration', reason: evil },
        },
      ],
      lints: {
        introduced: [
          {
            code: 'rls_disabled_in_public',
            level: 'ERROR',
            object: evil,
            message: `Table ${evil} has no RLS`,
            remediation: `ALTER TABLE ${evil} ENABLE ROW LEVEL SECURITY`,
          } as PlanResult['lints']['introduced'][number],
        ],
        resolved: [],
        existingCount: 0,
      },
      access: [
        {
          table: evil,
          cells: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'].map((command) => ({
            role: evil,
            command: command as 'SELECT',
            before: null,
            after: { kind: 'rows', expression: evil },
            changed: true,
          })),
        },
      ],
      diff: {
        changes: [
          {
            kind: 'table',
            id: evil,
            action: 'changed',
            renamedFrom: evil,
            attributes: [{ attribute: 'comment', before: null, after: evil }],
            members: [{ kind: 'column', name: evil, action: 'added', attributes: [] }],
            ddl: { before: 'a', after: 'b', diff: '-a\n+b ``` </details> @octocat\n```' },
          },
        ],
      },
    });
    const text = renderPlanMarkdown(result, {
      fileUrl: (path, line) => `https://github.com/acme/app/blob/abc/${path}#L${line}`,
    });
    // Every piece of the payload is in a code span, a code block, or text with nothing of
    // markup left: HTML, links, images, mentions, references, emphasis, table breaks.
    expect(visibleMarkup(text)).toEqual([]);
    // Collapsible sections open and close only where we put them (the payload's are text).
    expect(text.match(/^<details>/gm)?.length).toBe(text.match(/^<\/details>$/gm)?.length);
    // The SQL diff keeps its content, in a fence its backticks cannot close.
    expect(text).toContain('````diff\n-a\n+b ``` </details> @octocat\n```\n````');
    // Names stay readable in the raw markdown: no character references.
    expect(text).toContain('``<img src=x onerror=alert(1)> @octocat [click](http://evil.example) #1');
  });

  it('the structure check sees markup that is not escaped', () => {
    expect(visibleMarkup('- <img src=x> @octocat [a](http://x) **bold**').length).toBe(1);
    expect(visibleMarkup('| a | b |\n|---|---|\n| `x|y` | z |')).toContain(
      'row of 3 cells, not 2: | `x|y` | z |',
    );
    expect(visibleMarkup('| a | b |\n|---|---|\n| `x\\|y` | z |')).toEqual([]);
  });

  it('counts in the title exactly what blocks: blocking hazards and ERROR lints', () => {
    const hazard = (code: Hazard['code'], accepted?: boolean): Hazard => ({
      code,
      category: 'data-loss' as const,
      severity: 'blocking' as const,
      message: `${code} happens`,
      object: 'public.t',
      ...(accepted ? { accepted: { source: 'migration' as const, reason: 'fine' } } : {}),
    });
    const lint = (code: string, level: 'ERROR' | 'WARN') =>
      ({
        code,
        level,
        object: 'public.t',
        message: 'm',
        remediation: 'r',
      }) as PlanResult['lints']['introduced'][number];
    const result = planResult({
      hazards: [hazard('drop-table'), hazard('drop-column'), hazard('rls-disabled', true)],
      lints: {
        introduced: [lint('rls_disabled_in_public', 'ERROR'), lint('x', 'WARN')],
        resolved: [],
        existingCount: 0,
      },
    });
    const gate = planGate(result);
    const text = renderPlanMarkdown({ ...result, blocking: gate.blocking, blockingReasons: gate.reasons });
    expect(text).toContain('### supagate plan: 1 migration, 0 objects changed, ⛔ 3 blocking findings');
    expect(text.match(/^- `[\w-]+`: /gm)?.length).toBe(3);
    expect(renderPlanMarkdown(planResult())).toContain(', nothing blocks\n');
  });

  it('shows a new table’s access as one line per role, and only the changed cells of others', () => {
    const cells = (table: 'new' | 'changed'): PlanResult['access'][number]['cells'] =>
      ['anon', 'authenticated', 'service_role'].flatMap((role) =>
        (['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const).map((command) => {
          const after =
            role === 'service_role'
              ? { kind: 'bypass' as const }
              : role === 'authenticated' && command !== 'DELETE'
                ? { kind: 'rows' as const, expression: '(auth.uid() = owner)' }
                : command === 'SELECT'
                  ? { kind: 'all' as const }
                  : { kind: 'none' as const };
          const before =
            table === 'new'
              ? null
              : role === 'anon' && command === 'SELECT'
                ? { kind: 'none' as const }
                : after;
          return { role, command, before, after, changed: JSON.stringify(before) !== JSON.stringify(after) };
        }),
      );
    const text = renderPlanMarkdown(
      planResult({
        access: [
          { table: 'public.notes', cells: cells('new') },
          { table: 'public.posts', cells: cells('changed') },
        ],
      }),
    );
    expect(text).toContain(
      [
        '#### RLS access changes',
        '- **`public.notes`**, new:',
        '    - `anon`: SELECT all rows; no INSERT, UPDATE, DELETE',
        '    - `authenticated`: SELECT, INSERT, UPDATE rows where `(auth.uid() = owner)`; no DELETE',
        '    - `service_role`: bypasses RLS (every command, every row)',
        '- **`public.posts`**:',
        '    - `anon`: SELECT: no access → **all rows**',
      ].join('\n'),
    );
    expect(text).not.toContain('— →');
  });

  it('says what changed in a reviewer’s words, and links shortened paths to the file at the head commit', () => {
    const text = renderPlanMarkdown(
      planResult({
        hazards: [
          {
            code: 'rls-disabled',
            category: 'security',
            severity: 'warning',
            message: 'RLS is disabled on public.posts',
            object: 'public.posts',
            location: {
              path: 'supabase/migrations/20240301000000_drop_comments_and_simplify_profiles.sql',
              version: '20240301000000',
              line: 7,
              statementIndex: 2,
              statement: 'x',
            },
          },
        ],
        diff: {
          changes: [
            {
              kind: 'table',
              id: 'public.posts',
              action: 'changed',
              attributes: [{ attribute: 'rlsEnabled', before: true, after: false }],
              members: [
                {
                  kind: 'column',
                  name: 'title',
                  action: 'changed',
                  attributes: [
                    { attribute: 'notNull', before: false, after: true },
                    { attribute: 'dataType', before: 'text', after: 'character varying(200)' },
                  ],
                },
              ],
              ddl: { before: null, after: null, diff: null },
            },
          ],
        },
      }),
      { fileUrl: githubFileUrl('https://github.com', { owner: 'acme', repo: 'blog' }, 'abc123') },
    );
    expect(text).toContain(
      '- RLS: enabled → disabled\n- ✏️ column `title` — NOT NULL: no → yes; type: `text` → `character varying(200)`',
    );
    expect(text).not.toMatch(/rlsEnabled|notNull|dataType/);
    expect(text).toContain(
      '| [`20240301000000_drop_com…:7`](https://github.com/acme/blog/blob/abc123/supabase/migrations/20240301000000%5Fdrop%5Fcomments%5Fand%5Fsimplify%5Fprofiles.sql#L7 "supabase/migrations/20240301000000_drop_comments_and_simplify_profiles.sql") |',
    );
    expect(text).toContain('| RLS is disabled on `public.posts` |');
    // Without a link it is only shortened.
    expect(renderPlanMarkdown(planResult({ hazards: [] }))).not.toContain('](');
  });

  it('escapes text readably: a backslash where markdown would read markup, nothing elsewhere', () => {
    expect(inline('Table public.profiles_v2 is dropped (it had 3 rows)')).toBe(
      'Table public.profiles_v2 is dropped (it had 3 rows)',
    );
    expect(inline('<b>x</b> [a](b) `c` _d_ *e* ~f~ $g$ | h')).toBe(
      '\\<b\\>x\\</b\\> \\[a\\](b) \\`c\\` \\_d\\_ \\*e\\* \\~f\\~ \\$g\\$ \\| h',
    );
    expect(inline('1. not a list')).toBe('1\\. not a list');
    expect(inline('# not a heading')).toBe('\\# not a heading');
    expect(inline('&lt;b&gt; & co')).toBe('&amp;lt;b&amp;gt; & co');
    // Mentions, references and URLs get an invisible zero-width space.
    expect(inline('@octocat #12 http://x www.y')).toBe('@\u200boctocat #\u200b12 http:\u200b//x www\u200b.y');
    expect(inline('line\nbreak')).toBe('line break');
    expect(codeBlock('no fences')).toBe('```\nno fences\n```');
  });

  it('puts names in code spans that nothing inside can close', () => {
    expect(code('public.posts')).toBe('`public.posts`');
    expect(code('a`b')).toBe('``a`b``');
    expect(code('`x')).toBe('`` `x ``');
    expect(code('a\nb')).toBe('`a b`');
    expect(htmlCode('</summary><img src=x>')).toBe('<code>&#60;/summary&#62;&#60;img src=x&#62;</code>');
    // In a table every pipe of a cell gets a backslash, in code spans too (GitHub takes it off).
    expect(tableRow([code('a|b'), inline('c|d')])).toBe('| `a\\|b` | c\\\\|d |');
  });

  it('says so when nothing is pending', () => {
    const text = renderPlanMarkdown(planResult({ status: 'no-pending', pending: [] }));
    expect(text).toContain('no pending migrations');
  });
});

/**
 * What GitHub would read as markup in a report, outside what we write ourselves: the
 * structure of GFM as far as escaping goes (cmark-gfm's rules for fences, code spans,
 * backslash escapes and table cells), without a markdown renderer.
 */
function visibleMarkup(markdown: string): string[] {
  const found: string[] = [];
  const withoutBlocks = markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '');
  const delimiter = /^\|(-+:?\|)+$/;
  const lines = withoutBlocks.split('\n');
  let columns = 0;
  for (const [index, line] of lines.entries()) {
    if (line.startsWith('<!--')) continue;
    let cells = [line];
    if (line.startsWith('|')) {
      // A row splits at each pipe without a backslash before it; a cell loses one backslash per pipe.
      const split = (row: string) => row.split(/(?<!\\)\|/).slice(1, -1);
      cells = split(line);
      if (delimiter.test(lines[index + 1] ?? '')) columns = split(lines[index + 1] ?? '').length;
      if (cells.length !== columns) found.push(`row of ${cells.length} cells, not ${columns}: ${line}`);
      cells = cells.map((cell) => cell.replace(/\\\|/g, '|'));
    }
    for (const cell of cells) {
      const summary = /^<details><summary>(.*)<\/summary>$/.exec(cell);
      const text = summary
        ? (summary[1] ?? '').replace(/<code>[^<]*<\/code>/g, '').replace(/&#\d+;/g, ' ')
        : stripCodeSpans(
            // Our links to the pull request's files, their text a code span.
            cell.replace(
              /\[(`+)[\s\S]*?\1\]\(https:\/\/github\.com\/acme\/[^\s)]*( "(?:\\.|[^"\\])*")?\)/g,
              ' ',
            ),
          ).replace(/\\[!-/:-@[-`{-~]/g, ' ');
      const markup = text
        .replace(/<br>|<\/?details>|&amp;/g, ' ')
        .match(/<|>\s*\S|\[|\]\(|@\w|#\d|:\/\/|www\.|\*\*bold|_em_|`|&\w+;|&#|\$x/g);
      if (markup) found.push(`${markup.join(' ')} in: ${cell}`);
    }
  }
  return found;
}

/** Text without its code spans: a run of n backticks up to the next run of exactly n. */
function stripCodeSpans(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const open = /(?<!\\)`+/.exec(rest);
    if (!open) return out + rest;
    const fence = open[0];
    const after = rest.slice(open.index + fence.length);
    const close = new RegExp(`(?<!\`)${fence}(?!\`)`).exec(after);
    if (!close) return out + rest;
    out += `${rest.slice(0, open.index)} `;
    rest = after.slice(close.index + fence.length);
  }
}

/** A child table that gains the column its parent gained (INHERITS), and its own column. */
function inheritedColumnChange(): ObjectChange {
  return {
    kind: 'table',
    id: 'public.child',
    action: 'changed',
    attributes: [],
    members: [
      { kind: 'column', name: 'title', action: 'added', attributes: [], inheritedFrom: ['public.parent'] },
      { kind: 'column', name: 'own', action: 'added', attributes: [] },
    ],
    ddl: { before: null, after: null, diff: null },
  };
}

describe('inherited members', () => {
  it('markdown says which parents a column added by inheritance comes from, names as code spans', () => {
    const md = renderPlanMarkdown(planResult({ diff: { changes: [inheritedColumnChange()] } }));
    expect(md).toContain('- ➕ column `title` (inherited from `public.parent`)');
    expect(md).toMatch(/- ➕ column `own`\n/);
    expect(md).not.toContain('`own` (inherited');
  });

  it('markdown escapes a parent name that carries backticks', () => {
    const change = inheritedColumnChange();
    change.members = [
      {
        kind: 'column',
        name: 'title',
        action: 'removed',
        attributes: [],
        inheritedFrom: ['public."a`b"', 'public.p2'],
      },
    ];
    const md = renderPlanMarkdown(planResult({ diff: { changes: [change] } }));
    expect(md).toContain(`- ➖ column \`title\` (inherited from ${code('public."a`b"')}, \`public.p2\`)`);
  });

  it('text says which parents a column added by inheritance comes from, plainly', () => {
    const text = renderPlan(planResult({ diff: { changes: [inheritedColumnChange()] } }));
    expect(text).toContain('    + column title (inherited from public.parent)');
    expect(text).toMatch(/ {4}\+ column own\n/);
  });
});

describe('new model attributes in the markdown report', () => {
  const change = (
    kind: ObjectChange['kind'],
    id: string,
    attributes: ObjectChange['attributes'],
    members: ObjectChange['members'] = [],
  ): ObjectChange => ({
    kind,
    id,
    action: 'changed',
    attributes,
    members,
    ddl: { before: null, after: null, diff: null },
  });
  const changes: ObjectChange[] = [
    change(
      'table',
      'public.t',
      [
        { attribute: 'persistence', before: 'logged', after: 'unlogged' },
        { attribute: 'storageParameters', before: [], after: ['fillfactor=70'] },
        { attribute: 'inherits', before: [], after: ['public.parent'] },
      ],
      [
        {
          kind: 'column',
          name: 'body',
          action: 'changed',
          attributes: [
            { attribute: 'statistics', before: 'default', after: 500 },
            { attribute: 'storage', before: 'default', after: 'external' },
            { attribute: 'inherited', before: null, after: { from: ['public.parent'], local: true } },
          ],
        },
      ],
    ),
    change(
      'view',
      'public.v',
      [],
      [
        {
          kind: 'column',
          name: 'status',
          action: 'changed',
          attributes: [{ attribute: 'default', before: null, after: "'open'::text" }],
        },
      ],
    ),
    change('materialized view', 'public.mv', [
      { attribute: 'storageParameters', before: [], after: ['fillfactor=50'] },
    ]),
    change('publication', 'supabase_realtime', [
      { attribute: 'columnLists', before: {}, after: { 'public.t': ['id', 'body'] } },
      { attribute: 'rowFilters', before: {}, after: { 'public.t': '(id > 0)' } },
    ]),
  ];
  const md = renderPlanMarkdown(planResult({ diff: { changes } }));

  it.each([
    ['persistence', '- UNLOGGED / LOGGED: `logged` → `unlogged`'],
    ['storageParameters', '- storage parameters (WITH): `[]` → `["fillfactor=70"]`'],
    ['inherits', '- INHERITS: `[]` → `["public.parent"]`'],
    ['statistics', 'SET STATISTICS: `default` → 500'],
    ['storage', 'SET STORAGE: `default` → `external`'],
    ['inherited', 'inherited from: — → '],
    ['view column default', "- ✏️ column `status` — default: — → `'open'::text`"],
    ['materialized view storageParameters', '- storage parameters (WITH): `[]` → `["fillfactor=50"]`'],
    ['columnLists', '- column lists: `{}` → `{"public.t":["id","body"]}`'],
    ['rowFilters', '- row filters (WHERE): `{}` → `{"public.t":"(id > 0)"}`'],
  ])('%s reads in a reviewer’s words', (_attribute, line) => {
    expect(md).toContain(line);
  });

  it('no camelCase model field name leaks', () => {
    for (const field of [
      'persistence',
      'storageParameters',
      'inherits',
      'statistics',
      'columnLists',
      'rowFilters',
    ])
      expect(md).not.toMatch(new RegExp(`\\b${field}\\b`));
    expect(md).not.toMatch(/\b[a-z]+[A-Z][a-zA-Z]*:/);
  });

  it('reads in the same words in the text report', () => {
    const text = renderPlan(planResult({ diff: { changes } }));
    expect(text).toContain('UNLOGGED / LOGGED: logged → unlogged');
    expect(text).toContain('SET STATISTICS: default → 500');
    expect(text).not.toMatch(/\b[a-z]+[A-Z][a-zA-Z]*:/);
  });
});
