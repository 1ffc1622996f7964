import type { AcceptedHazard } from '../../config.js';
import type { Migration } from '../../migrations/model.js';
import { canonicalFindingCode, namesFinding, nearFindingCodes } from './codes.js';
import type { Finding, FindingAcceptance } from './finding.js';

/**
 * The one accept rule of findings, hazards and lints alike: `-- supagate:allow <code-or-category>:
 * <reason>` in a migration accepts the findings located in that file; `acceptedHazards` in
 * supagate.yml (or the configuration) accepts any finding of that code or category, narrowed to
 * one migration (`version`) or object when given.
 */
export interface AllowComment {
  /** As written; `canonicalFindingCode` says which finding code or category it names. */
  code: string;
  reason: string;
  /** 1-based line of the comment in its file. */
  line: number;
}

/** `-- supagate:allow drop-column: why` or `-- supagate:allow drop-column, rls_disabled_in_public: why`. */
const ALLOW_COMMENT = /--[ \t]*supagate:allow[ \t]+([\w-]+(?:[ \t]*,[ \t]*[\w-]+)*)[ \t]*:[ \t]*(\S.*)$/gm;

export function allowCommentsIn(sql: string): AllowComment[] {
  return [...sql.matchAll(ALLOW_COMMENT)].flatMap((match) => {
    const line = sql.slice(0, match.index).split('\n').length;
    const reason = (match[2] as string).trim();
    return (match[1] as string).split(',').map((code) => ({ code: code.trim(), reason, line }));
  });
}

/** An allow comment that names no finding code or category: a typo that would accept nothing. */
export interface UnknownAllowCode {
  path: string;
  version: string;
  line: number;
  code: string;
  nearest: string[];
}

export function unknownAllowCodes(pending: Migration[]): UnknownAllowCode[] {
  return pending.flatMap((migration) =>
    allowCommentsIn(migration.sql)
      .filter((allow) => canonicalFindingCode(allow.code) === undefined)
      .map((allow) => ({
        path: migration.path,
        version: migration.version,
        line: allow.line,
        code: allow.code,
        nearest: nearFindingCodes(allow.code),
      })),
  );
}

export class Acceptance {
  private readonly comments: Map<string, AllowComment[]>;

  constructor(
    pending: Migration[],
    private readonly configured: AcceptedHazard[],
  ) {
    this.comments = new Map(pending.map((migration) => [migration.path, allowCommentsIn(migration.sql)]));
  }

  /** The finding, with `accepted` set when a comment in its own file or the configuration accepts it. */
  apply<F extends Finding>(finding: F, category: string): F {
    const accepted = this.inFile(finding, category) ?? this.inConfig(finding, category);
    return accepted ? { ...finding, accepted } : finding;
  }

  private inFile(finding: Finding, category: string): FindingAcceptance | undefined {
    if (!finding.location) return undefined;
    const allow = this.comments
      .get(finding.location.path)
      ?.find((comment) => namesFinding(comment.code, finding.code, category));
    return allow ? { reason: allow.reason, source: 'migration' } : undefined;
  }

  private inConfig(finding: Finding, category: string): FindingAcceptance | undefined {
    const entry = this.configured.find(
      (accepted) =>
        namesFinding(accepted.code, finding.code, category) &&
        (!accepted.version || accepted.version === finding.location?.version) &&
        (!accepted.object || accepted.object === finding.object),
    );
    return entry ? { reason: entry.reason, source: 'config' } : undefined;
  }
}

/** How to accept a finding that blocks: in its file when it has one, else in supagate.yml. */
export function howToAccept(finding: Finding): string {
  const entry = `acceptedHazards: - { code: ${finding.code}${finding.object ? `, object: ${finding.object}` : ''}, reason: <why> }`;
  if (!finding.location) return `list it in supabase/supagate.yml (${entry})`;
  return `add \`-- supagate:allow ${finding.code}: <why>\` to ${finding.location.path} (or list it in supabase/supagate.yml: ${entry})`;
}
