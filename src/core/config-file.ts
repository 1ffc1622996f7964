import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { type Document, isScalar, LineCounter, parseDocument } from 'yaml';
import type { AcceptedHazard } from './config.js';
import { editDistance } from './edit-distance.js';
import { SupagateError } from './errors.js';
import { canonicalFindingCode, nearFindingCodes } from './schema/findings/codes.js';
import type { CountMode } from './verify/counts.js';
import { parseTolerance } from './verify/counts.js';
import { tableIdentity } from './verify/identity.js';
import { DEFAULT_PROBE_IDENTITIES, type ProbeExpectation, type ProbeIdentity } from './verify/probes.js';
import { DEFAULT_VERIFY_DIR } from './verify/scripts.js';

/**
 * The project's configuration file: `supabase/supagate.yml` (or `.yaml`), optional. What
 * belongs to the project rather than to one run lives here, reviewed in pull requests like
 * the migrations themselves. Every key is optional; unknown keys are errors (a typo must not
 * silently turn a check off).
 *
 * ```yaml
 * # Findings (hazards, lints) accepted for good (a migration accepts its own with `-- supagate:allow <code>: <reason>`).
 * acceptedHazards:
 *   - code: drop-column            # a hazard or lint code (rls_disabled_in_public), or a category (data-loss, security…)
 *     version: "20240501120000"    # optional: only in this migration
 *     object: public.posts.body    # optional: only for this object
 *     reason: moved to post_bodies in 20240430090000   # required
 *
 * verify:                          # verification after apply
 *   countMode: exact               # exact (default) | estimate (pg_class.reltuples; cannot prove rows were kept)
 *   concurrency: 4                 # connections counting rows in parallel (1–64, default 4)
 *   countTolerance:                # rows a table may lose: a number of rows, or a percentage of its rows before
 *     "*": 0                       # every table without an entry of its own (default 0)
 *     public.sessions: 5%
 *   allowNoRls: [public.countries] # tables of API schemas allowed to have RLS disabled
 *   identities:                    # who the RLS probes act as (default: anon and authenticated, no user)
 *     - name: anon
 *       role: anon
 *     - name: alice                # name: defaults to the role
 *       role: authenticated
 *       claims: { sub: 8d0fd2b3-9ca7-4d9e-a95f-9e13dded323e, role: authenticated }
 *   probeTables: [public.posts]    # tables probed (default: every table of the API schemas)
 *   expectations:                  # what an identity must see after apply
 *     - identity: anon
 *       table: public.posts
 *       visible: { max: 4 }        # a number of rows, or { min, max }
 *     - identity: alice
 *       table: public.notes
 *       canSee: true               # true: at least one row; false: none
 *   scriptsDir: supabase/verify    # custom verify scripts (see src/core/verify/scripts.ts)
 * ```
 *
 * Table names: `schema.table` or `table` (in public), case-sensitive, quotes optional.
 * Versions: quote them ("001"), or YAML reads 001 as the number 1; an unquoted one is read
 * as written in the file all the same.
 *
 * Errors are CONFIG_INVALID and name the file, the key path (`verify.identities[1].claims`),
 * its line, and what is expected there.
 */
export interface ProjectConfig {
  /** The file read, relative to the project directory; null when there is none. */
  path: string | null;
  acceptedHazards: AcceptedHazard[];
  verify: VerifySettings;
}

export interface VerifySettings {
  countMode: CountMode;
  concurrency: number;
  /** Table identity (or `*`) → rows (number) or percentage (`'1%'`). */
  countTolerance: Record<string, number | string>;
  /** Table identities. */
  allowNoRls: string[];
  identities: ProbeIdentity[];
  /** Table identities; null: every table of the API schemas. */
  probeTables: string[] | null;
  expectations: ProbeExpectation[];
  scriptsDir: string;
}

export const CONFIG_FILE_NAMES = ['supabase/supagate.yml', 'supabase/supagate.yaml'] as const;

export function defaultVerifySettings(): VerifySettings {
  return {
    countMode: 'exact',
    concurrency: 4,
    countTolerance: {},
    allowNoRls: [],
    identities: DEFAULT_PROBE_IDENTITIES.map((identity) => ({ ...identity })),
    probeTables: null,
    expectations: [],
    scriptsDir: DEFAULT_VERIFY_DIR,
  };
}

/**
 * Reads the project's configuration file: `file` when given (relative to the project
 * directory; it must exist), else the first of CONFIG_FILE_NAMES that exists. No file: the
 * defaults.
 */
export async function loadProjectConfig(projectDir: string, file?: string): Promise<ProjectConfig> {
  const candidates = file ? [file] : [...CONFIG_FILE_NAMES];
  for (const candidate of candidates) {
    const absolute = isAbsolute(candidate) ? candidate : join(projectDir, candidate);
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (file) {
        throw new SupagateError('CONFIG_INVALID', `Configuration file ${candidate} not found`, {
          hint: 'Check the path; it is relative to the project directory.',
          details: { file: candidate },
        });
      }
      continue;
    }
    const display = relative(projectDir, absolute).split(sep).join('/');
    return parseProjectConfig(text, display);
  }
  return { path: null, acceptedHazards: [], verify: defaultVerifySettings() };
}

type Segment = string | number;

/** Parses and validates the text of a configuration file; `path` is what errors name. */
export function parseProjectConfig(text: string, path: string): ProjectConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: true,
  });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line;
    throw new SupagateError(
      'CONFIG_INVALID',
      `${path}${line ? `:${line}` : ''}: not valid YAML: ${syntax.message.split('\n')[0]}`,
      { hint: 'Fix the YAML syntax.', details: { file: path, ...(line ? { line } : {}) } },
    );
  }
  const v = new Validator(doc, lineCounter, path);
  const root = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (root === null || root === undefined)
    return { path, acceptedHazards: [], verify: defaultVerifySettings() };
  const top = v.mapping([], root, ['acceptedHazards', 'verify']);
  return {
    path,
    acceptedHazards:
      top.acceptedHazards === undefined ? [] : v.acceptedHazards(['acceptedHazards'], top.acceptedHazards),
    verify: top.verify === undefined ? defaultVerifySettings() : v.verify(['verify'], top.verify),
  };
}

/** `verify.identities[1].claims`, `verify.countTolerance["public.sessions"]`. */
export function keyPath(segments: Segment[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text || '(top level)';
}

class Validator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  /** Throws CONFIG_INVALID: `<file>:<line>: <key path> must be <expected><detail>`. */
  fail(path: Segment[], expected: string, detail = ''): never {
    const line = this.lineOf(path);
    const where = keyPath(path);
    throw new SupagateError(
      'CONFIG_INVALID',
      `${this.file}${line ? `:${line}` : ''}: ${where} must be ${expected}${detail}`,
      {
        hint: `Fix ${where} in ${this.file}.`,
        details: { file: this.file, path: where, expected, ...(line ? { line } : {}) },
      },
    );
  }

  /** The line of the node at `path`, or of its nearest ancestor in the file. */
  lineOf(path: Segment[]): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return this.lines.linePos(range[0]).line;
    }
    return undefined;
  }

  /** The text of a scalar as written in the file (`001`, not 1). */
  source(path: Segment[]): string | undefined {
    const node = this.doc.getIn(path, true);
    return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
  }

  mapping(path: Segment[], value: unknown, keys: string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(path, `a mapping (with keys ${keys.join(', ')})`, got(value));
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!keys.includes(key)) {
        const suggestion = closest(key, keys);
        this.fail(
          [...path, key],
          `one of the known keys`,
          `: unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; known keys here: ${keys.join(', ')}`,
        );
      }
    }
    return record;
  }

  list(path: Segment[], value: unknown, what: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `a list of ${what}`, got(value));
    return value as unknown[];
  }

  string(path: Segment[], value: unknown, what = 'a non-empty string'): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(path, what, got(value));
    return (value as string).trim();
  }

  table(path: Segment[], value: unknown): string {
    const text = this.string(path, value, 'a table name (schema.table)');
    const identity = tableIdentity(text);
    if (!identity) this.fail(path, 'a table name (schema.table)', got(value));
    return identity as string;
  }

  tables(path: Segment[], value: unknown): string[] {
    return this.list(path, value, 'table names').map((item, i) => this.table([...path, i], item));
  }

  wholeNumber(path: Segment[], value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      this.fail(
        path,
        max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`,
        got(value),
      );
    return value as number;
  }

  acceptedHazards(path: Segment[], value: unknown): AcceptedHazard[] {
    return this.list(path, value, 'accepted hazards ({ code, reason, version?, object? })').map((item, i) => {
      const at = [...path, i];
      const entry = this.mapping(at, item, ['code', 'version', 'object', 'reason']);
      if (entry.code === undefined)
        this.fail(
          [...at, 'code'],
          'a hazard code, lint code or category (e.g. drop-column, rls_disabled_in_public)',
          ': missing',
        );
      if (entry.reason === undefined)
        this.fail([...at, 'reason'], 'the reason the hazard is accepted', ': missing');
      const code = this.findingCode([...at, 'code'], entry.code);
      const reason = this.string(
        [...at, 'reason'],
        entry.reason,
        'the reason the hazard is accepted (a non-empty string)',
      );
      const hazard: AcceptedHazard = { code, reason };
      if (entry.version !== undefined) hazard.version = this.version([...at, 'version'], entry.version);
      if (entry.object !== undefined)
        hazard.object = this.string(
          [...at, 'object'],
          entry.object,
          'an object name (public.posts, public.posts.body)',
        );
      return hazard;
    });
  }

  /** A hazard code, lint code or category, in the spelling findings carry (`rls_disabled_in_public`). */
  findingCode(path: Segment[], value: unknown): string {
    const expected =
      'a hazard code, lint code or category (e.g. drop-column, rls_disabled_in_public, data-loss)';
    const written = this.string(path, value, expected);
    const code = canonicalFindingCode(written);
    if (code) return code;
    const nearest = nearFindingCodes(written);
    return this.fail(
      path,
      expected,
      `: "${written}" is none${nearest.length > 0 ? ` (did you mean ${nearest.join(', ')}?)` : ''}; a code that names nothing would accept nothing`,
    );
  }

  version(path: Segment[], value: unknown): string {
    const text = typeof value === 'number' ? (this.source(path) ?? String(value)) : value;
    if (typeof text !== 'string' || !/^\d+$/.test(text.trim()))
      this.fail(path, 'a migration version (its digits, e.g. "20240501120000")', got(value));
    return (text as string).trim();
  }

  verify(path: Segment[], value: unknown): VerifySettings {
    const settings = defaultVerifySettings();
    if (value === null) return settings;
    const v = this.mapping(path, value, [
      'countMode',
      'concurrency',
      'countTolerance',
      'allowNoRls',
      'identities',
      'probeTables',
      'expectations',
      'scriptsDir',
    ]);
    if (v.countMode !== undefined) {
      if (v.countMode !== 'exact' && v.countMode !== 'estimate')
        this.fail([...path, 'countMode'], '"exact" or "estimate"', got(v.countMode));
      settings.countMode = v.countMode as CountMode;
    }
    if (v.concurrency !== undefined)
      settings.concurrency = this.wholeNumber([...path, 'concurrency'], v.concurrency, 1, 64);
    if (v.countTolerance !== undefined)
      settings.countTolerance = this.tolerance([...path, 'countTolerance'], v.countTolerance);
    if (v.allowNoRls !== undefined) settings.allowNoRls = this.tables([...path, 'allowNoRls'], v.allowNoRls);
    if (v.probeTables !== undefined)
      settings.probeTables = this.tables([...path, 'probeTables'], v.probeTables);
    if (v.scriptsDir !== undefined)
      settings.scriptsDir = this.string(
        [...path, 'scriptsDir'],
        v.scriptsDir,
        'a folder (relative to the project directory)',
      );
    if (v.identities !== undefined)
      settings.identities = this.identities([...path, 'identities'], v.identities);
    if (v.expectations !== undefined)
      settings.expectations = this.expectations(
        [...path, 'expectations'],
        v.expectations,
        settings.identities,
      );
    return settings;
  }

  tolerance(path: Segment[], value: unknown): Record<string, number | string> {
    const expected = 'a mapping of table names (or "*") to rows (5) or a percentage (1%)';
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(path, expected, got(value));
    const tolerance: Record<string, number | string> = {};
    for (const [key, amount] of Object.entries(value as Record<string, unknown>)) {
      const table = key.trim() === '*' ? '*' : tableIdentity(key);
      if (!table)
        this.fail([...path, key], `keyed by a table name (schema.table) or "*"`, `: "${key}" is neither`);
      if (!parseTolerance(amount))
        this.fail(
          [...path, key],
          'a number of rows (5) or a percentage of the rows before (1%)',
          got(amount),
        );
      tolerance[table as string] = amount as number | string;
    }
    return tolerance;
  }

  identities(path: Segment[], value: unknown): ProbeIdentity[] {
    const names = new Set<string>();
    return this.list(path, value, 'identities ({ name, role, claims? })').map((item, i) => {
      const at = [...path, i];
      const entry = this.mapping(at, item, ['name', 'role', 'claims']);
      if (entry.role === undefined)
        this.fail([...at, 'role'], 'a database role (anon, authenticated, …)', ': missing');
      const role = this.string([...at, 'role'], entry.role, 'a database role (anon, authenticated, …)');
      const name =
        entry.name === undefined ? role : this.string([...at, 'name'], entry.name, 'a non-empty name');
      if (names.has(name))
        this.fail([...at, 'name'], 'unique among the identities', `: "${name}" is used twice`);
      names.add(name);
      const identity: ProbeIdentity = { name, role };
      if (entry.claims !== undefined) {
        const claims = entry.claims;
        if (typeof claims !== 'object' || claims === null || Array.isArray(claims))
          this.fail(
            [...at, 'claims'],
            'a mapping of JWT claims (e.g. { sub: <uuid>, role: authenticated })',
            got(claims),
          );
        identity.claims = claims as Record<string, unknown>;
      }
      return identity;
    });
  }

  expectations(path: Segment[], value: unknown, identities: ProbeIdentity[]): ProbeExpectation[] {
    const known = identities.map((identity) => identity.name);
    return this.list(path, value, 'expectations ({ identity, table, visible?, canSee? })').map((item, i) => {
      const at = [...path, i];
      const entry = this.mapping(at, item, ['identity', 'table', 'visible', 'canSee']);
      if (entry.identity === undefined)
        this.fail([...at, 'identity'], `the name of an identity (${known.join(', ')})`, ': missing');
      if (entry.table === undefined) this.fail([...at, 'table'], 'a table name (schema.table)', ': missing');
      const identity = this.string([...at, 'identity'], entry.identity);
      if (!known.includes(identity))
        this.fail(
          [...at, 'identity'],
          `the name of an identity in verify.identities (${known.join(', ')})`,
          got(identity),
        );
      const expectation: ProbeExpectation = { identity, table: this.table([...at, 'table'], entry.table) };
      if (entry.visible !== undefined) {
        const visible = entry.visible;
        if (typeof visible === 'number')
          expectation.visible = this.wholeNumber([...at, 'visible'], visible, 0);
        else if (typeof visible === 'object' && visible !== null && !Array.isArray(visible)) {
          const range = this.mapping([...at, 'visible'], visible, ['min', 'max']);
          if (range.min === undefined && range.max === undefined)
            this.fail(
              [...at, 'visible'],
              'a number of rows or { min, max } with at least one of them',
              got(visible),
            );
          const bounds: { min?: number; max?: number } = {};
          if (range.min !== undefined) bounds.min = this.wholeNumber([...at, 'visible', 'min'], range.min, 0);
          if (range.max !== undefined) bounds.max = this.wholeNumber([...at, 'visible', 'max'], range.max, 0);
          if (bounds.min !== undefined && bounds.max !== undefined && bounds.min > bounds.max)
            this.fail([...at, 'visible'], 'a range whose min is not above its max', got(visible));
          expectation.visible = bounds;
        } else this.fail([...at, 'visible'], 'a number of rows or { min, max }', got(visible));
      }
      if (entry.canSee !== undefined) {
        if (typeof entry.canSee !== 'boolean')
          this.fail([...at, 'canSee'], 'true or false', got(entry.canSee));
        expectation.canSee = entry.canSee as boolean;
      }
      if (expectation.visible === undefined && expectation.canSee === undefined)
        this.fail(at, 'an expectation with visible or canSee', ': neither is given');
      return expectation;
    });
  }
}

/** `, got <what it is>`. */
function got(value: unknown): string {
  return `, got ${describe(value)}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return `${typeof value} ${String(value)}`;
}

/** The known key at edit distance ≤ 2 (case-insensitive), if any. */
function closest(key: string, keys: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of keys) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
