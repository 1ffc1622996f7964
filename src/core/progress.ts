import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Progress of a command, for a person watching it: the phases that can take seconds, each
 * migration, the bytes of a backup, the row counts. Commands emit; whoever runs them listens
 * (the CLI renders them on stderr). Without a listener, emitting does nothing: the Action and
 * the library are unaffected.
 */
export type ProgressPhase =
  | 'plan'
  | 'shadow'
  | 'clone'
  | 'shadow-migrations'
  | 'data-checks'
  | 'declared-schema'
  | 'backup'
  | 'counts-before'
  | 'migrations'
  | 'verification'
  | 'recovery'
  | 'safety-backup'
  | 'restore-check'
  | 'restore'
  | 'restore-fetch'
  | 'restore-script'
  | 'restore-proof'
  | 'rollback'
  | 'storage';

export type ProgressEvent =
  /** The database worked on (`from`/`to`: the two of copy and diff). */
  | { type: 'target'; target: string; role?: 'from' | 'to' }
  | { type: 'phase-start'; phase: ProgressPhase; detail?: string }
  | { type: 'phase-end'; phase: ProgressPhase; ms: number; ok: boolean }
  /** Migration `index` (1-based) of `total` starts. */
  | { type: 'migration-start'; index: number; total: number; path: string }
  | { type: 'migration-end'; index: number; total: number; path: string; ms: number; ok: boolean }
  /** Bytes written so far by a phase (the backup's dump). */
  | { type: 'bytes'; phase: ProgressPhase; bytes: number }
  /** Row counts around a change: tables done of total. */
  | { type: 'count'; phase: 'before' | 'after'; done: number; total: number };

export type ProgressListener = (event: ProgressEvent) => void;

const listeners = new AsyncLocalStorage<ProgressListener>();

/** Runs `work` with `listener` receiving every progress event emitted inside it. */
export function withProgress<T>(listener: ProgressListener, work: () => Promise<T>): Promise<T> {
  return listeners.run(listener, work);
}

/**
 * Runs `work` with no progress shown: for work done beside a command's own phases (the declared
 * schema's shadow), whose phases would interleave with them.
 */
export function withoutProgress<T>(work: () => Promise<T>): Promise<T> {
  return listeners.exit(work);
}

/** Whether anybody listens (to skip work done only for progress). */
export function progressListened(): boolean {
  return listeners.getStore() !== undefined;
}

export function emitProgress(event: ProgressEvent): void {
  const listener = listeners.getStore();
  if (!listener) return;
  try {
    listener(event);
  } catch {
    // Progress is informative: a failing renderer never fails the command.
  }
}

/** `work` as a phase: started, then finished with its duration, failed or not. */
export async function phase<T>(name: ProgressPhase, work: () => Promise<T>, detail?: string): Promise<T> {
  emitProgress({ type: 'phase-start', phase: name, ...(detail ? { detail } : {}) });
  const started = performance.now();
  try {
    const result = await work();
    emitProgress({ type: 'phase-end', phase: name, ms: Math.round(performance.now() - started), ok: true });
    return result;
  } catch (error) {
    emitProgress({ type: 'phase-end', phase: name, ms: Math.round(performance.now() - started), ok: false });
    throw error;
  }
}

/** A byte counter that emits at most every `everyMs`, plus once at the end. */
export function byteProgress(
  name: ProgressPhase,
  everyMs = 1_000,
): { add(bytes: number): void; end(): void } {
  // Captured now: stream callbacks may run outside the command's async context.
  const listener = listeners.getStore();
  if (!listener) return { add: () => {}, end: () => {} };
  const emit = (bytes: number) => {
    try {
      listener({ type: 'bytes', phase: name, bytes });
    } catch {
      // Informative only.
    }
  };
  let total = 0;
  let last = performance.now();
  return {
    add(bytes) {
      total += bytes;
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      emit(total);
    },
    end() {
      emit(total);
    },
  };
}
