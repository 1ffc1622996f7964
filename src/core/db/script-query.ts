import type pg from 'pg';

/** What pg's Connection offers a submittable query (not in @types/pg). */
interface QueryConnection {
  query(text: string): void;
  sendCopyFail(message: string): void;
}

/**
 * SQL run for its effect only, as a pg Submittable: one simple query of any number of
 * statements, settled when the server is ready again. pg's own query keeps a result object per
 * statement until the last one completes: a batch of thousands of DDL statements kept thousands
 * of them alive through the whole round trip, long enough to reach the old generation.
 */
export class ScriptQuery implements pg.Submittable {
  readonly #text: string;
  readonly #done: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: Error) => void;
  #error: Error | undefined;

  constructor(text: string) {
    this.#text = text;
    this.#done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#done.catch(() => {});
  }

  /** Runs `text` on `client`; rejects with the server's error (pg's DatabaseError). */
  static run(client: pg.Client, text: string): Promise<void> {
    const query = new ScriptQuery(text);
    client.query(query);
    return query.#done;
  }

  submit(connection: unknown): void {
    (connection as QueryConnection).query(this.#text);
  }

  /** pg's client forgets the query on an error: its ReadyForQuery goes to no one, so this ends it. */
  handleError(error: Error): void {
    this.#error ??= error;
    this.#reject(this.#error);
  }

  handleReadyForQuery(): void {
    if (this.#error) this.#reject(this.#error);
    else this.#resolve();
  }

  /** A `COPY … FROM stdin` has no rows to read here: the server is told, and answers with an error. */
  handleCopyInResponse(connection: QueryConnection): void {
    connection.sendCopyFail('supagate: COPY FROM stdin is not expected in this SQL');
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}
