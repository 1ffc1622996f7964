import type { Readable } from 'node:stream';
import type { BackupStore } from './stores.js';
import { unverified } from './verify-dump.js';

/**
 * The stored file has the size that was written into the store: a cheap check that the store
 * kept all of it (its bytes were verified on their way in). A store that cannot tell a size
 * (`size` is optional for stores of other code) is read back and counted instead.
 */
export async function checkStoredSize(store: BackupStore, key: string, written: number): Promise<void> {
  let stored: number;
  try {
    stored = store.size ? await store.size(key) : await countBytes(await store.get(key));
  } catch (error) {
    throw unverified(
      `the ${store.kind} store cannot tell the size of what it stored: ${error instanceof Error ? error.message : String(error)}`,
      key,
    );
  }
  if (stored !== written) {
    throw unverified(
      `the ${store.kind} store holds ${stored} bytes under "${key}", ${written} were written`,
      key,
      { storedBytes: stored, writtenBytes: written },
    );
  }
}

async function countBytes(stream: Readable): Promise<number> {
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  }
  return size;
}
