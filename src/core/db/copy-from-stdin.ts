import { once } from 'node:events';
import type pg from 'pg';

/** What pg's Connection offers a query in COPY IN mode (not in @types/pg). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & {
    writableNeedDrain?: boolean;
    once(event: string, listener: () => void): unknown;
  };
}

/**
 * `COPY … FROM stdin` as a pg Submittable: the client hands it the connection when the server
 * answers CopyInResponse; rows are then sent as CopyData, with backpressure.
 */
export class CopyFromStdin implements pg.Submittable {
  readonly text: string;
  #connection: CopyConnection | undefined;
  #error: Error | undefined;
  #finished = false;
  #ready: Promise<void>;
  #done: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #resolveDone!: () => void;
  #rejectDone!: (error: Error) => void;

  constructor(text: string) {
    this.text = text;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.#ready.catch(() => {});
    this.#done.catch(() => {});
  }

  submit(connection: unknown): void {
    (connection as CopyConnection).query(this.text);
  }

  /** Resolves once the server accepts rows; rejects when the COPY statement failed. */
  started(): Promise<void> {
    return Promise.race([
      this.#ready,
      this.#done.then(() => {
        throw new Error('the statement did not start a COPY');
      }),
    ]);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#error) throw this.#error;
    const connection = this.#connection as CopyConnection;
    connection.sendCopyFromChunk(chunk);
    if (connection.stream.writableNeedDrain) {
      // once() leaves its listener until its event comes: the losers of the race are removed,
      // or every chunk would add a 'close' listener to the connection's socket.
      const stream = connection.stream as NodeJS.EventEmitter;
      const losers = new AbortController();
      const { signal } = losers;
      try {
        await Promise.race([
          once(stream, 'drain', { signal }),
          once(stream, 'close', { signal }),
          this.#done,
        ]);
      } finally {
        losers.abort();
      }
    }
    if (this.#error) throw this.#error;
  }

  end(): Promise<void> {
    if (!this.#error && !this.#finished) this.#connection?.endCopyFrom();
    return this.#done;
  }

  fail(message: string): Promise<void> {
    if (!this.#error && !this.#finished) this.#connection?.sendCopyFail(message);
    return this.#done;
  }

  handleCopyInResponse(connection: CopyConnection): void {
    this.#connection = connection;
    this.#resolveReady();
  }

  /** pg's client forgets the query on an error: its ReadyForQuery goes to no one, so this ends it. */
  handleError(error: Error): void {
    this.#error ??= error;
    this.#finished = true;
    this.#rejectReady(error);
    this.#rejectDone(error);
  }

  handleReadyForQuery(): void {
    this.#finished = true;
    this.#resolveDone();
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}
