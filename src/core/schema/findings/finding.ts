/**
 * What hazards and lints have in common as findings: where one statement causes them, and
 * whether a migration's allow comment or the configuration accepts them. The gate (plan,
 * apply) reads these fields only.
 */
export interface FindingLocation {
  path: string;
  version: string;
  line: number;
  statementIndex: number;
  statement: string;
}

export interface FindingAcceptance {
  reason: string;
  source: 'migration' | 'config';
}

export interface Finding {
  code: string;
  /** The object it concerns: `public.posts`, `public.posts.title`, `public.posts policy "x"`. */
  object?: string;
  location?: FindingLocation;
  accepted?: FindingAcceptance;
}

/** Said of a finding that the pending statements cause together, or that none of them names. */
export const NO_SINGLE_STATEMENT = 'no single statement causes this';
