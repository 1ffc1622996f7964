import type { CountProgress } from '../commands/verification.js';

/** Databases with fewer tables count in a blink: no progress lines for them. */
const QUIET_BELOW_TABLES = 50;

/**
 * Progress of the row counts around a change, as lines (the CLI writes them to stderr, the
 * Action to the log): one each tenth of the tables, so a long count on a large database is
 * visibly alive.
 */
export function countProgressPrinter(write: (text: string) => void): (progress: CountProgress) => void {
  const printed = new Map<CountProgress['phase'], number>();
  return ({ phase, done, total }) => {
    if (total < QUIET_BELOW_TABLES) return;
    const tenth = Math.floor((done * 10) / total);
    if ((printed.get(phase) ?? 0) >= tenth) return;
    printed.set(phase, tenth);
    write(`counting rows ${phase === 'before' ? 'before' : 'after'} the change: ${done}/${total} tables\n`);
  };
}
