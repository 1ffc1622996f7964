import { Transform, type TransformCallback, Writable } from 'node:stream';

/** One destination of a FanOut. */
export interface Branch {
  stream: Writable;
  /**
   * A reader that may stop before the end (`pg_restore --list` exits once it read the table of
   * contents): its close or EPIPE drops it and the rest goes on; whoever reads it judges it by
   * other means (its exit code). A branch that is not droppable failing fails the FanOut.
   */
  droppable: boolean;
}

interface Live extends Branch {
  gone: boolean;
  ended: boolean;
}

/**
 * Writes every chunk to each branch, taking the next one only when every live branch took
 * this one (the slowest sets the pace): nothing is buffered beyond the branches' own
 * high-water marks. Ending it ends the branches; destroying it destroys those not ended.
 */
export class FanOut extends Writable {
  readonly #branches: Live[];

  constructor(branches: Branch[]) {
    super();
    this.#branches = branches.map((branch) => ({ ...branch, gone: false, ended: false }));
    for (const branch of this.#branches) {
      branch.stream.on('error', (error: Error) => this.#lost(branch, error));
      branch.stream.on('close', () => {
        if (!branch.ended) this.#lost(branch, new Error('a branch of the backup stream closed early'));
      });
    }
  }

  #lost(branch: Live, error: Error): void {
    if (branch.gone) return;
    branch.gone = true;
    if (!branch.droppable) this.destroy(error);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const waits: Promise<void>[] = [];
    for (const branch of this.#branches) {
      if (branch.gone) continue;
      if (!branch.stream.write(chunk)) waits.push(drained(branch.stream));
    }
    if (waits.length === 0) callback();
    else Promise.all(waits).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    for (const branch of this.#branches) {
      branch.ended = true;
      if (!branch.gone) branch.stream.end();
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const branch of this.#branches) {
      if (branch.ended) continue;
      branch.ended = true;
      branch.stream.destroy(error ?? new Error('the backup stream was stopped'));
    }
    callback(error);
  }
}

/** Resolves when the stream can take more, or will never (closed, failed); leaves no listener behind. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/**
 * Joins small chunks into ones of at least `size` bytes. pg_dump writes its archive a few kB
 * at a time; every chunk then costs a write to each branch (a system call to each pg_restore),
 * and in a 1 GB backup that added more CPU time than hashing it.
 */
export class Coalesce extends Transform {
  readonly #size: number;
  #pending: Buffer[] = [];
  #bytes = 0;

  constructor(size = 256 * 1024) {
    super();
    this.#size = size;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pending.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes >= this.#size) this.#release();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#bytes > 0) this.#release();
    callback();
  }

  #release(): void {
    const joined = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#bytes = 0;
    this.push(joined);
  }
}
