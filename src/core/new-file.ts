import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Streams `source` (through `through`) into a file created at `path`, readable by the owner
 * only; `path` must not exist. When any stream fails, the file is removed and the error thrown.
 *
 * The removal waits for the writer to close: a writer destroyed before its open() completed
 * still creates the file afterwards, so removing it earlier would leave it behind.
 */
export async function streamToNewFile(
  source: Readable,
  path: string,
  through: Transform[] = [],
): Promise<void> {
  const writer = createWriteStream(path, { mode: 0o600, flags: 'wx' });
  let created = false;
  writer.once('open', () => {
    created = true;
  });
  try {
    await pipeline([source, ...through, writer]);
  } catch (error) {
    source.destroy();
    writer.destroy();
    if (!writer.closed) await new Promise<void>((resolve) => writer.once('close', () => resolve()));
    // A file that was at `path` before (EEXIST) is someone else's: only the writer's own goes.
    if (created) await rm(path, { force: true });
    throw error;
  }
}
