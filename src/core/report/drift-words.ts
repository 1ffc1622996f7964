import type { DriftAgainst, DriftResult } from '../commands/drift.js';

/** How the drift reports (markdown and text) speak of what production is compared with. */
export interface DriftWords {
  /** `production is what ${expected}` / `production differs from ${source}`. */
  expected: string;
  source: string;
  /** What was run on the shadow, and how: `2 applied migrations replayed`. */
  unit: string;
  ran: string;
  /** The same as the text report's line starts: `Replayed 2 applied migrations`. */
  ranFirst: string;
  /** What a difference means and what to do. */
  drifted: string;
  failureHeading: string;
}

const WORDS: Record<DriftAgainst, DriftWords> = {
  migrations: {
    expected: 'its migrations produce',
    source: 'its migrations',
    unit: 'applied migration',
    ran: 'replayed',
    ranFirst: 'Replayed',
    drifted:
      'Something changed production outside the migrations (the dashboard, SQL run by hand), or a migration was edited after it ran. ' +
      'Capture each difference in a new migration, or undo it in production.',
    failureHeading: '#### ⛔ An applied migration fails when replayed',
  },
  declared: {
    expected: 'the declared schema (supabase/schemas) produces',
    source: 'the declared schema',
    unit: 'schema file',
    ran: 'run',
    ranFirst: 'Ran',
    drifted:
      'Production differs from what the schema files declare: a migration not generated or not applied yet, a change made outside the migrations, or a schema file not updated.',
    failureHeading: '#### ⛔ A schema file fails on a fresh Supabase schema',
  },
};

export function driftWords(result: Pick<DriftResult, 'against'>): DriftWords {
  return WORDS[result.against ?? 'migrations'];
}
