import { spawn } from 'node:child_process';
import { NOTHING_CHANGED, restoreFailed, sqlFailed } from '../restore/errors.js';
import type { Client } from './connect.js';
import { CopyFromStdin } from './copy-from-stdin.js';
import { type FoundTool, firstLines } from './pgtools.js';
import { redact } from './redact.js';

interface ScriptEntry {
  /** `TABLE public posts`, from pg_restore's `-- Name: posts; Type: TABLE; Schema: public` header. */
  label: string;
  type: string;
}

const ENTRY_HEADER = /^-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: (.*)$/;
const PREAMBLE_TIMEOUTS =
  /^SET (statement_timeout|lock_timeout|idle_in_transaction_session_timeout|transaction_timeout) = /;
const COPY_LINE = /^COPY .+ FROM stdin;$/;
const COPY_CHUNK_BYTES = 256 * 1024;

/**
 * Runs `pg_restore --use-list <list> --file=- <dump>` through the connection, entry by entry:
 * SQL as simple queries, COPY data streamed with the COPY protocol. Nothing is held in memory
 * but one entry's SQL and one chunk of rows.
 */
export async function runRestoreScript(
  client: Client,
  pgRestore: FoundTool,
  listFile: string,
  dumpFile: string,
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
  const script = new ScriptRunner(client);
  try {
    let pending: Buffer = Buffer.alloc(0);
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let start = 0;
      for (;;) {
        const end = pending.indexOf(0x0a, start);
        if (end < 0) break;
        await script.line(pending.subarray(start, end));
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

class ScriptRunner {
  entries = 0;
  #client: Client;
  #sql: string[] = [];
  #entry: ScriptEntry = { label: 'the preamble of the restore script', type: '' };
  #preamble = true;
  #previous = '';
  #restrictKey: string | undefined;
  #copy: CopyFromStdin | undefined;
  #copyBuffer: Buffer[] = [];
  #copyBytes = 0;

  constructor(client: Client) {
    this.#client = client;
  }

  async line(raw: Buffer): Promise<void> {
    if (this.#copy) {
      if (raw.length === 2 && raw[0] === 0x5c && raw[1] === 0x2e) {
        await this.#endCopy();
        return;
      }
      this.#copyBuffer.push(raw, NEWLINE);
      this.#copyBytes += raw.length + 1;
      if (this.#copyBytes >= COPY_CHUNK_BYTES) await this.#flushCopy();
      return;
    }
    const line = raw.toString('utf8');
    const header = this.#previous === '--' ? ENTRY_HEADER.exec(line) : null;
    this.#previous = line;
    if (header) {
      await this.#flushSql();
      this.#preamble = false;
      this.entries++;
      const [, name, type, schema] = header as unknown as [string, string, string, string];
      this.#entry = { label: `${type} ${name}${schema === '-' ? '' : ` in schema ${schema}`}`, type };
      this.#sql.push(line);
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
    this.#sql.push(line);
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
    const text = this.#sql.join('\n');
    this.#sql = [];
    if (!text.split('\n').some((line) => line.trim() !== '' && !line.startsWith('--'))) return;
    try {
      await this.#client.query(text);
    } catch (error) {
      throw sqlFailed(`restoring ${this.#entry.label}`, text, error);
    }
  }

  async #flushCopy(): Promise<void> {
    const copy = this.#copy as CopyFromStdin;
    const chunk = Buffer.concat(this.#copyBuffer);
    this.#copyBuffer = [];
    this.#copyBytes = 0;
    try {
      await copy.write(chunk);
    } catch (error) {
      this.#copy = undefined;
      throw sqlFailed(`restoring the rows of ${this.#entry.label}`, copy.text, error);
    }
  }

  async #endCopy(): Promise<void> {
    if (this.#copyBytes > 0) await this.#flushCopy();
    const copy = this.#copy as CopyFromStdin;
    this.#copy = undefined;
    try {
      await copy.end();
    } catch (error) {
      throw sqlFailed(`restoring the rows of ${this.#entry.label}`, copy.text, error);
    }
  }
}

const NEWLINE = Buffer.from('\n');
