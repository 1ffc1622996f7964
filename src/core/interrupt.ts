import { rm } from 'node:fs/promises';
import { SupagateError } from './errors.js';

/**
 * Ctrl-C and SIGTERM (a cancelled CI job) must not leave a statement running on the server, the
 * migration lock held, a partial or decrypted dump on disk or a shadow server running. Whatever
 * holds such a thing registers a cleanup while it holds it; the one handler the CLI (or the
 * Action) installs runs them, newest first, prints what each did, and exits 130 or 143.
 *
 * Library users who install no handler are unaffected: the registry is only read by the handler.
 */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** Lines saying what the cleanup did (or found not done). Throw to report a failure. */
export type Cleanup = (signal: InterruptSignal) => Promise<string[] | string | undefined>;

export const INTERRUPT_EXIT_CODES: Record<InterruptSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** Each cleanup gets this long; a server that does not answer must not keep the process alive. */
const CLEANUP_TIMEOUT_MS = 10_000;

interface Entry {
  label: string;
  cleanup: Cleanup;
}

const entries: Entry[] = [];
let received: InterruptSignal | undefined;

/** Registers a cleanup for as long as its resource exists; call the returned function once it is gone. */
export function onInterrupt(label: string, cleanup: Cleanup): () => void {
  const entry: Entry = { label, cleanup };
  entries.push(entry);
  return () => {
    const index = entries.indexOf(entry);
    if (index >= 0) entries.splice(index, 1);
  };
}

/** A file or folder that must not outlive an interrupt (a partial dump, a decrypted copy). */
export function removeOnInterrupt(path: string, what: string): () => void {
  return onInterrupt(what, async () => {
    await rm(path, { recursive: true, force: true });
    return `deleted ${what} (${path})`;
  });
}

/** The signal being handled, once one arrived. Long-running work checks it between steps. */
export function interruptReceived(): InterruptSignal | undefined {
  return received;
}

export function interruptedError(signal: InterruptSignal): SupagateError {
  return new SupagateError('INTERRUPTED', `Interrupted by ${signal}`, {
    hint: 'Nothing more was started after the interrupt. Run the command again to continue.',
    details: { signal },
  });
}

/** Between steps: stop before starting the next one when an interrupt arrived. */
export function throwIfInterrupted(): void {
  if (received) throw interruptedError(received);
}

export interface CleanupOutcome {
  done: string[];
  failed: string[];
}

/** Runs every registered cleanup, newest first (what was acquired last is released first). */
export async function runInterruptCleanups(signal: InterruptSignal): Promise<CleanupOutcome> {
  received ??= signal;
  const outcome: CleanupOutcome = { done: [], failed: [] };
  for (const entry of [...entries].reverse()) {
    entries.splice(entries.indexOf(entry), 1);
    try {
      const lines = await withTimeout(entry.cleanup(signal), entry.label);
      outcome.done.push(...[lines ?? []].flat());
    } catch (error) {
      outcome.failed.push(`${entry.label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return outcome;
}

async function withTimeout<T>(work: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${label} did not finish within ${CLEANUP_TIMEOUT_MS / 1000} s`)),
      CLEANUP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface InterruptHandlerOptions {
  /** Where to say what was done: stderr. Text passes through redact() before it gets here. */
  write(text: string): void;
  exit?(code: number): void;
}

/**
 * Installs the SIGINT/SIGTERM handler: cleanups, a report, exit 130/143. A second signal while
 * cleaning up exits at once. Returns a function that uninstalls it.
 */
export function installInterruptHandler(options: InterruptHandlerOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const handle = (signal: InterruptSignal) => {
    if (received) {
      options.write(`\n${signal} again: exiting without finishing the cleanup.\n`);
      exit(INTERRUPT_EXIT_CODES[signal]);
      return;
    }
    received = signal;
    options.write(`\nInterrupted (${signal}): stopping and cleaning up…\n`);
    void runInterruptCleanups(signal).then((outcome) => {
      options.write(interruptReport(signal, outcome));
      exit(INTERRUPT_EXIT_CODES[signal]);
    });
  };
  const onInt = () => handle('SIGINT');
  const onTerm = () => handle('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

export function interruptReport(signal: InterruptSignal, outcome: CleanupOutcome): string {
  const lines = [
    ...outcome.done.map((line) => `  ✓ ${line}`),
    ...outcome.failed.map((line) => `  ✗ not done: ${line}`),
  ];
  if (lines.length === 0) lines.push('  nothing was running that needed stopping');
  return `${lines.join('\n')}\nStopped by ${signal}; exit code ${INTERRUPT_EXIT_CODES[signal]}.\n`;
}

/** Tests: forget a handled interrupt. */
export function resetInterruptState(): void {
  received = undefined;
  entries.length = 0;
}
