import { spawn } from 'node:child_process';
import { NOTHING_CHANGED, restoreFailed, sqlFailed } from '../restore/errors.js';
import { type Client, pgErrorFields } from './connect.js';
import { CopyFromStdin } from './copy-from-stdin.js';
import { type FoundTool, firstLines } from './pgtools.js';
import { redact } from './redact.js';
import { ScriptQuery } from './script-query.js';

export interface ScriptEntry {
  /** `TABLE public posts`, from pg_restore's `-- Name: posts; Type: TABLE; Schema: public` header. */
  label: string;
  type: string;
  /** Empty for an object outside any schema (a schema, an extension, a publication). */
  schema: string;
  name: string;
}

/** An entry whose SQL failed, when the run goes on past failures (onEntryError). */
export interface EntryFailure {
  entry: ScriptEntry;
  /** The server's message. */
  message: string;
}

const ENTRY_HEADER = /^-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: (.*)$/;
const PREAMBLE_TIMEOUTS =
  /^SET (statement_timeout|lock_timeout|idle_in_transaction_session_timeout|transaction_timeout) = /;
const COPY_LINE = /^COPY .+ FROM stdin;$/;
const COPY_CHUNK_BYTES = 256 * 1024;

export interface RestoreScriptOptions {
  /**
   * Sends the SQL of consecutive entries as one query of about this many bytes rather than one
   * query per entry. The server's cost per query dominates a schema of thousands of small
   * entries: a 1,000-table schema restores in less than half the time in 1 MiB batches. A
   * failure then names the entry its position points at, or the batch's first and last entry.
   * 0 (the default): one query per entry.
   */
  batchBytes?: number;
  /**
   * Reports an entry whose SQL the server refused and goes on with the next one, as pg_restore
   * does without --exit-on-error: for a run outside a transaction, where each entry stands
   * alone. One query per entry then (batchBytes is ignored). Without it, the first failure throws.
   */
  onEntryError?: (failure: EntryFailure) => void;
}

/**
 * Runs `pg_restore --use-list <list> --file=- <dump>` through the connection: SQL as simple
 * queries (an entry's, or a batch of entries'), COPY data streamed with the COPY protocol.
 * Nothing is held in memory but one batch of SQL and one chunk of rows.
 */
export async function runRestoreScript(
  client: Client,
  pgRestore: FoundTool,
  listFile: string,
  dumpFile: string,
  options: RestoreScriptOptions = {},
): Promise<void> {
  const child = spawn(pgRestore.path, ['--use-list', listFile, '--file=-', dumpFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    },
  );
  const script = new ScriptRunner(client, options);
  try {
    let pending: Buffer = Buffer.alloc(0);
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let start = 0;
      for (;;) {
        const end = pending.indexOf(0x0a, start);
        if (end < 0) break;
        // Most lines need no waiting: no promise for them (a plan's clone has 100,000s).
        const sent = script.line(pending.subarray(start, end));
        if (sent) await sent;
        start = end + 1;
      }
      pending = Buffer.from(pending.subarray(start));
    }
    if (pending.length > 0) await script.line(pending);
    const { code, signal, error } = await exited;
    if (error || code !== 0) {
      const said = firstLines(redact(stderr));
      throw restoreFailed(
        error
          ? `pg_restore could not be started (${error.message})`
          : `pg_restore ${signal ? `was killed by ${signal}` : `exited with code ${code}`} after ${script.entries} entries${said ? `: ${said}` : ''}`,
      );
    }
    await script.finish();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await script.abort();
  }
}

const DASH = 0x2d;
const BACKSLASH = 0x5c;
const LETTER_C = 0x43;

/**
 * The script, line by line. SQL is kept as the bytes read (a line is decoded only when it may
 * be an entry header, a psql meta-command, the preamble's settings or a COPY) and sent as one
 * string per entry or batch.
 */
class ScriptRunner {
  entries = 0;
  #client: Client;
  #batchBytes: number;
  /** The SQL of the entries in #batch, as bytes: one reused buffer, no object per line. */
  #sql = new ByteAccumulator(64 * 1024);
  /** Whether #sql holds more than comments and blank lines. */
  #hasSql = false;
  /** The entries whose SQL is in #sql, each with the byte offset where it starts. */
  #batch: { entry: ScriptEntry; offset: number }[] = [];
  #entry: ScriptEntry = { label: 'the preamble of the restore script', type: '', schema: '', name: '' };
  #onEntryError: RestoreScriptOptions['onEntryError'];
  #preamble = true;
  /** The previous line was `--`, which precedes an entry's header. */
  #afterDashes = false;
  #restrictKey: string | undefined;
  #copy: CopyFromStdin | undefined;
  #copyRows = new ByteAccumulator(COPY_CHUNK_BYTES + 64 * 1024);

  constructor(client: Client, options: RestoreScriptOptions) {
    this.#client = client;
    this.#onEntryError = options.onEntryError;
    this.#batchBytes = options.onEntryError ? 0 : (options.batchBytes ?? 0);
  }

  /** Takes one line (without its newline); a promise when it has to wait for the server. */
  line(raw: Buffer): Promise<void> | undefined {
    if (this.#copy) {
      if (raw.length === 2 && raw[0] === BACKSLASH && raw[1] === 0x2e) return this.#endCopy();
      this.#copyRows.appendLine(raw);
      return this.#copyRows.length >= COPY_CHUNK_BYTES ? this.#flushCopy() : undefined;
    }
    const afterDashes = this.#afterDashes;
    this.#afterDashes = raw.length === 2 && raw[0] === DASH && raw[1] === DASH;
    const first = raw[0];
    const mayMatter =
      this.#preamble ||
      first === BACKSLASH ||
      (afterDashes && first === DASH) ||
      (first === LETTER_C && this.#entry.type === 'TABLE DATA');
    if (!mayMatter) {
      this.#push(raw, first !== undefined && !(first === DASH && raw[1] === DASH));
      return undefined;
    }
    return this.#special(raw, raw.toString('utf8'), afterDashes);
  }

  /** A line that may be an entry header, a meta-command, a preamble setting or a COPY. */
  async #special(raw: Buffer, line: string, afterDashes: boolean): Promise<void> {
    const header = afterDashes ? ENTRY_HEADER.exec(line) : null;
    if (header) {
      if (this.#sql.length >= this.#batchBytes) await this.#flushSql();
      this.#preamble = false;
      this.entries++;
      const [, name, type, schema] = header as unknown as [string, string, string, string];
      this.#entry = {
        label: `${type} ${name}${schema === '-' ? '' : ` in schema ${schema}`}`,
        type,
        schema: schema === '-' ? '' : schema,
        name,
      };
      this.#batch.push({ entry: this.#entry, offset: this.#sql.length });
      this.#push(raw, false);
      return;
    }
    if (this.#preamble) {
      const restrict = /^\\restrict (\S+)$/.exec(line);
      if (restrict) {
        this.#restrictKey = restrict[1];
        return;
      }
      if (PREAMBLE_TIMEOUTS.test(line)) return;
      const encoding = /^SET client_encoding = '(.*)';$/.exec(line);
      if (encoding && !/^utf-?8$/i.test(encoding[1] as string)) {
        throw restoreFailed(
          `the backup's encoding is ${encoding[1]}; only UTF8 backups can be restored this way`,
          { hint: `Restore it by hand with pg_restore. ${NOTHING_CHANGED}` },
        );
      }
    }
    if (this.#restrictKey !== undefined && line === `\\unrestrict ${this.#restrictKey}`) return;
    if (this.#entry.type === 'TABLE DATA' && COPY_LINE.test(line)) {
      await this.#flushSql();
      const copy = new CopyFromStdin(line);
      this.#copy = copy;
      this.#client.query(copy);
      try {
        await copy.started();
      } catch (error) {
        this.#copy = undefined;
        throw sqlFailed(`restoring ${this.#entry.label}`, line, error);
      }
      return;
    }
    this.#push(raw, line.trim() !== '' && !line.startsWith('--'));
  }

  #push(raw: Buffer, sql: boolean): void {
    this.#sql.appendLine(raw);
    if (sql) this.#hasSql = true;
  }

  async finish(): Promise<void> {
    if (this.#copy) throw restoreFailed(`the restore script ended inside the rows of ${this.#entry.label}`);
    await this.#flushSql();
  }

  /** After a failure: ends a COPY in progress so that the connection can roll back. */
  async abort(): Promise<void> {
    const copy = this.#copy;
    this.#copy = undefined;
    if (!copy) return;
    // A broken connection never answers: the rollback that follows then fails and ends it.
    await Promise.race([
      copy.fail('supagate: restore aborted').catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
    ]);
  }

  async #flushSql(): Promise<void> {
    const text = this.#sql.drainText();
    const batch = this.#batch;
    const hasSql = this.#hasSql;
    this.#hasSql = false;
    this.#batch = [];
    if (!hasSql) return;
    try {
      await ScriptQuery.run(this.#client, text);
    } catch (error) {
      // Only what the server refused is passed over; a connection that broke ends the run.
      const { code, message } = pgErrorFields(error);
      if (this.#onEntryError && code) {
        this.#onEntryError({ entry: batch[0]?.entry ?? this.#entry, message });
        return;
      }
      throw sqlFailed(`restoring ${this.#failedIn(batch, text, error)}`, text, error);
    }
  }

  /** The entry of a batch an error's position points at, else the batch's span. */
  #failedIn(batch: { entry: ScriptEntry; offset: number }[], text: string, error: unknown): string {
    // No header in it: the rest of the current entry (after its COPY, or the preamble).
    if (batch.length <= 1) return (batch[0]?.entry ?? this.#entry).label;
    const position = Number(pgErrorFields(error).position);
    if (position > 0) {
      // The position counts characters; the offsets count bytes.
      const at = Buffer.byteLength(text.slice(0, position - 1), 'utf8');
      const found = batch.filter((item) => item.offset <= at).pop();
      if (found) return found.entry.label;
    }
    return `one of ${batch.length} entries from ${batch[0]?.entry.label} to ${batch[batch.length - 1]?.entry.label}`;
  }

  #flushCopy(): Promise<void> {
    const copy = this.#copy as CopyFromStdin;
    const chunk = this.#copyRows.drainBytes();
    return copy.write(chunk).catch((error: unknown) => {
      this.#copy = undefined;
      throw sqlFailed(`restoring the rows of ${this.#entry.label}`, copy.text, error);
    });
  }

  async #endCopy(): Promise<void> {
    if (this.#copyRows.length > 0) await this.#flushCopy();
    const copy = this.#copy as CopyFromStdin;
    this.#copy = undefined;
    try {
      await copy.end();
    } catch (error) {
      throw sqlFailed(`restoring the rows of ${this.#entry.label}`, copy.text, error);
    }
  }
}

/**
 * Lines appended as bytes into one buffer that grows as needed and is reused after each drain.
 * A batch of thousands of lines held as Buffer objects outlived young-generation collections
 * and left tens of MB of garbage in the old generation of a large plan.
 */
class ByteAccumulator {
  #buffer: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafe(capacity);
  }

  appendLine(line: Buffer): void {
    const needed = this.length + line.length + 1;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.length);
      this.#buffer = grown;
    }
    this.length += line.copy(this.#buffer, this.length);
    this.#buffer[this.length++] = 0x0a;
  }

  /** The bytes as text; the buffer is reused. */
  drainText(): string {
    const text = this.#buffer.toString('utf8', 0, this.length);
    this.length = 0;
    return text;
  }

  /** The bytes in a buffer of their own (a write may keep it until sent); the buffer is reused. */
  drainBytes(): Buffer {
    const bytes = Buffer.from(this.#buffer.subarray(0, this.length));
    this.length = 0;
    return bytes;
  }
}
