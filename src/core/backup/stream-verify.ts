import { type ChildProcess, spawn } from 'node:child_process';
import { devNull } from 'node:os';
import type { Writable } from 'node:stream';
import { type FoundTool, firstLines } from '../db/pgtools.js';
import { redact } from '../db/redact.js';
import { onInterrupt } from '../interrupt.js';
import type { ScopeTable } from './dump.js';
import type { Branch } from './fan-out.js';
import { missingTables, tocOids, unverified } from './verify-dump.js';

/**
 * The dump verified while it streams: pg_dump's plaintext goes, besides the store, into two
 * pg_restore processes reading the archive from stdin (pg_restore reads a custom-format
 * archive from a pipe when pg_dump wrote it to one, in order):
 * - `pg_restore --list`: the table of contents, which must list every expected table. It
 *   exits once it read the table of contents, at the start of the archive: its branch ends
 *   early, and that is no failure.
 * - `pg_restore --file=/dev/null`: reads every data block to the end (decompressing them), so
 *   a dump damaged or cut short anywhere fails.
 * One process cannot do both: `--list` reads nothing but the table of contents, and the
 * script of a full read names tables, not the oids the expected tables are matched by.
 */
export interface StreamVerifyOptions {
  pgRestore: FoundTool;
  expectedTables: ScopeTable[];
  schemaOnly: boolean;
  /** Store key, for the error's details. */
  key: string;
}

export interface StreamVerifier {
  branches: Branch[];
  /** The verified tables once both readers exited 0 and every table was listed; BACKUP_UNVERIFIED else. */
  result: Promise<string[]>;
  /** Stops both readers (the dump failed). */
  stop(): void;
}

interface Reader {
  child: ChildProcess;
  stdin: Writable;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
  stdout(): string;
  stderr(): string;
}

export function startStreamVerifier(options: StreamVerifyOptions): StreamVerifier {
  const list = reader(options.pgRestore.path, ['--list'], true);
  const full = reader(options.pgRestore.path, [`--file=${devNull}`], false);
  const stop = () => {
    for (const { child } of [list, full]) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
  };
  const forgetInterrupt = onInterrupt('stopping pg_restore (verifying the backup)', async () => {
    stop();
    return 'stopped pg_restore';
  });
  const result = judge(options, list, full).finally(forgetInterrupt);
  result.catch(() => {});
  return {
    branches: [
      { stream: list.stdin, droppable: true },
      { stream: full.stdin, droppable: true },
    ],
    result,
    stop,
  };
}

async function judge(options: StreamVerifyOptions, list: Reader, full: Reader): Promise<string[]> {
  const [listed, read] = await Promise.all([list.exited, full.exited]);
  if (listed.code !== 0) {
    throw unverified(`pg_restore cannot read the dump: ${outcome(listed, list.stderr())}`, options.key);
  }
  const oids = tocOids(list.stdout(), options.schemaOnly ? 'TABLE' : 'TABLE DATA');
  missingTables(options.expectedTables, oids, options.key);
  if (read.code !== 0) {
    throw unverified(
      `pg_restore cannot read the dump to its end: ${outcome(read, full.stderr())}`,
      options.key,
    );
  }
  return options.expectedTables.map((t) => t.name).sort();
}

function outcome(
  exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error },
  stderr: string,
) {
  if (exit.error) return `it could not be started (${exit.error.message})`;
  const said = firstLines(redact(stderr));
  if (said) return said;
  return exit.signal ? `it was killed by ${exit.signal}` : `it exited with code ${exit.code}`;
}

function reader(path: string, args: string[], keepStdout: boolean): Reader {
  const child = spawn(path, args, { stdio: ['pipe', keepStdout ? 'pipe' : 'ignore', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    stdout += text;
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    },
  );
  return {
    child,
    stdin: child.stdin as Writable,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
