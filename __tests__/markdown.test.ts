import { describe, expect, it } from 'vitest';
import type { PlanResult } from '../src/core/commands/plan.js';
import { codeBlock, inline } from '../src/core/report/escape.js';
import { COMMENT_LIMIT, renderPlanMarkdown } from '../src/core/report/markdown.js';
import type { ObjectChange } from '../src/core/schema/changes.js';

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
      '<img src=x onerror=alert(1)> @octocat [click](http://evil.example) #1 </details> **bold** | pipe';
    const result = planResult({
      blocking: true,
      blockingReasons: [`drop-table: Table public."${evil}" is dropped`],
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
        },
      ],
      diff: {
        changes: [
          {
            kind: 'table',
            id: evil,
            action: 'changed',
            attributes: [{ attribute: 'comment', before: null, after: evil }],
            members: [{ kind: 'column', name: evil, action: 'added', attributes: [] }],
            ddl: { before: 'a', after: 'b', diff: '-a\n+b ``` </details> @octocat\n```' },
          },
        ],
      },
    });
    const text = renderPlanMarkdown(result);
    // Outside code blocks nothing of the payload stays markup; inside, GitHub shows it as text.
    const outsideCode = text.replace(/(`{3,})[^\n]*\n[\s\S]*?\n\1/g, '');
    for (const forbidden of ['<img', '@octocat ', '[click]', '(http://evil', '#1 ', '**bold**', '| pipe']) {
      expect(outsideCode).not.toContain(forbidden);
    }
    expect(outsideCode.split('<details>').length).toBe(outsideCode.split('</details>').length);
    // The SQL diff keeps its content, in a fence its backticks cannot close.
    expect(text).toContain('````diff\n-a\n+b ``` </details> @octocat\n```\n````');
  });

  it('escapes every markdown and HTML special character as a character reference', () => {
    expect(inline('<b>@x</b> [a](b) `c` _d_ #2 | e').replace(/&#\d+;/g, '')).not.toMatch(/[<>@[\]()`_#|]/);
    expect(inline('line\nbreak')).toBe('line break');
    expect(codeBlock('no fences')).toBe('```\nno fences\n```');
  });

  it('says so when nothing is pending', () => {
    const text = renderPlanMarkdown(planResult({ status: 'no-pending', pending: [] }));
    expect(text).toContain('no pending migrations');
  });
});
