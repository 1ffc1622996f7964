import type { CountProgress } from '../commands/verification.js';
import type { ProgressEvent, ProgressListener, ProgressPhase } from '../progress.js';

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
    write(`${countText(phase, done, total)}\n`);
  };
}

function countText(phase: CountProgress['phase'], done: number, total: number): string {
  return `counting rows ${phase === 'before' ? 'before' : 'after'} the change: ${done}/${total} tables`;
}

const LABELS: Record<ProgressPhase, string> = {
  plan: 'planning on a shadow copy of the database',
  shadow: 'starting the shadow database',
  clone: 'copying the schema into the shadow',
  'shadow-migrations': 'running the migrations on the shadow',
  'data-checks': "counting production's rows the migrations depend on",
  'declared-schema': 'building the declared schema files on a fresh Supabase shadow',
  backup: 'backing up the database',
  'counts-before': 'counting rows before the change',
  migrations: 'applying the migrations',
  verification: 'verifying the result',
  recovery: 'rolling back after the failed verification',
  'safety-backup': 'taking a safety backup',
  'restore-check': 'checking the backup against the database',
  restore: 'restoring the backup',
  'restore-fetch': 'fetching the backup',
  'restore-script': 'restoring schemas and rows',
  'restore-proof': 'checking the restore against the manifest',
  rollback: 'running the down files',
  storage: 'copying the Storage files',
};

/** The phases the summary names, in the order they run. */
const SUMMARY_PHASES: Partial<Record<ProgressPhase, string>> = {
  plan: 'plan',
  backup: 'backup',
  'safety-backup': 'safety backup',
  'counts-before': 'counts',
  migrations: 'migrations',
  rollback: 'down files',
  'restore-check': 'checks',
  restore: 'restore',
  storage: 'storage',
  verification: 'verification',
  recovery: 'recovery',
};

export interface PhaseTiming {
  name: string;
  ms: number;
}

export interface ProgressRendererOptions {
  write: (text: string) => void;
  /** A terminal: one live line, rewritten in place. Otherwise: plain lines. */
  live: boolean;
  /** Colours (never when not live, or with NO_COLOR). */
  color: boolean;
  /** The terminal's width: a live line longer than it would wrap, and \r not rewrite it. */
  columns?: number;
  /** How often a plain run prints the bytes of a backup still running. */
  plainBytesEveryMs?: number;
}

export interface ProgressRenderer {
  listener: ProgressListener;
  /** The row counts (verification's own callback). */
  count(progress: CountProgress): void;
  /** Durations of the phases the summary names, in order. */
  timings(): PhaseTiming[];
  /** Ends a live line, before the report is printed. */
  finish(): void;
}

/**
 * Progress on stderr: on a terminal a live line (carriage return), elsewhere plain lines with
 * no escape sequences, one when a phase starts and one when it ends, with its duration.
 */
export function progressRenderer(options: ProgressRendererOptions): ProgressRenderer {
  const { write, live } = options;
  const color = options.live && options.color;
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const timings: PhaseTiming[] = [];
  const bytes = new Map<ProgressPhase, number>();
  let bytesPrintedAt = 0;
  let liveLength = 0;
  const plainCounts = countProgressPrinter(write);

  const width = Math.max((options.columns ?? 0) - 1, 20);
  const transient = (whole: string) => {
    if (!live) return write(`${whole}\n`);
    const text = options.columns && whole.length > width ? `${whole.slice(0, width - 1)}…` : whole;
    write(`\r${padded(text)}`);
    liveLength = visible(text);
  };
  const permanent = (text: string) => {
    if (!live) return write(`${text}\n`);
    write(`\r${padded(text)}\n`);
    liveLength = 0;
  };
  /** Spaces over what is left of the previous live line. */
  const padded = (text: string) => `${text}${' '.repeat(Math.max(0, liveLength - visible(text)))}`;

  const listener: ProgressListener = (event: ProgressEvent) => {
    switch (event.type) {
      case 'target':
        permanent(
          `${event.role === 'from' ? 'From:  ' : event.role === 'to' ? 'To:    ' : 'Target: '}${event.target}`,
        );
        return;
      case 'phase-start':
        // The dump counts its bytes as the backup's, whichever backup it is.
        bytes.delete(event.phase === 'safety-backup' ? 'backup' : event.phase);
        transient(`→ ${LABELS[event.phase]}${event.detail ? `: ${event.detail}` : ''}…`);
        return;
      case 'phase-end': {
        const name = SUMMARY_PHASES[event.phase];
        if (name) timings.push({ name, ms: event.ms });
        const size = bytes.get(event.phase === 'safety-backup' ? 'backup' : event.phase);
        const mark = event.ok ? paint('32', '✓') : paint('31', '✗');
        const what = `${LABELS[event.phase]}${size !== undefined && event.ok ? `: ${formatBytes(size)}` : ''}`;
        permanent(`${mark} ${what}${event.ok ? '' : ' failed'} ${paint('2', `(${formatMs(event.ms)})`)}`);
        return;
      }
      case 'migration-start':
        transient(`→ migration ${event.index}/${event.total}: ${event.path}…`);
        return;
      case 'migration-end': {
        const mark = event.ok ? paint('32', '✓') : paint('31', '✗');
        permanent(
          `${mark} migration ${event.index}/${event.total}: ${event.path}${event.ok ? '' : ' failed'} ${paint('2', `(${formatMs(event.ms)})`)}`,
        );
        return;
      }
      case 'bytes': {
        bytes.set(event.phase, event.bytes);
        const now = performance.now();
        if (!live && now - bytesPrintedAt < (options.plainBytesEveryMs ?? 5_000)) return;
        bytesPrintedAt = now;
        transient(`  ${LABELS[event.phase]}: ${formatBytes(event.bytes)} written`);
        return;
      }
      case 'count':
        renderCount(event);
        return;
    }
  };

  const renderCount = (progress: CountProgress) => {
    if (live) transient(countText(progress.phase, progress.done, progress.total));
    else plainCounts(progress);
  };

  return {
    listener,
    count: renderCount,
    timings: () => [...timings],
    finish: () => {
      if (live && liveLength > 0) {
        write(`\r${''.padEnd(liveLength)}\r`);
        liveLength = 0;
      }
    },
  };
}

/** Length on screen: colour sequences take no room. */
function visible(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences are what is measured.
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** `850 ms`, `2.0 s`, `3 min 05 s`. */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `Took 34.1 s: plan 1.2 s, backup 30.0 s, migrations 2.0 s.` */
export function timingsLine(totalMs: number, timings: PhaseTiming[]): string {
  const parts = timings.map((t) => `${t.name} ${formatMs(t.ms)}`);
  return `Took ${formatMs(totalMs)}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}.`;
}
