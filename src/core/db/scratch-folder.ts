import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { platform, tmpdir } from 'node:os';

/*
 * Where a throwaway cluster's files go (an embedded shadow, the copy of a kept baseline). Its
 * data is never kept (fsync is off), and a plan creates and deletes thousands of small files in
 * it, which some disks do slowly (ext4 with online discard: ~150 µs a file after a delete, so
 * 1.2 s for a 1,000-table schema's cluster). A memory-backed folder (Linux's /dev/shm) has no
 * such cost: it is used when it has room, and the temporary folder otherwise, or when TMPDIR
 * says where temporary files go.
 */

export interface ScratchOptions {
  env?: NodeJS.ProcessEnv;
  memoryFolder?: string;
  /** Free space the memory-backed folder must have (a shadow may grow as migrations run). */
  minFreeBytes?: number;
}

export const MEMORY_FOLDER = '/dev/shm';
export const MIN_FREE_BYTES = 1024 ** 3;

/** The hint for a shadow whose files ran out of room, or undefined when `message` is not that. */
export function outOfSpaceHint(message: string): string | undefined {
  if (!/No space left on device/i.test(message)) return undefined;
  return `The shadow ran out of space (a migration that writes many rows can do that too). supagate's own shadow server keeps its files in ${MEMORY_FOLDER} when it has ${MIN_FREE_BYTES / 1024 ** 3} GiB free, else in the temporary folder: set TMPDIR to a folder with more room, or plan on a shadow server of your own (--shadow-url).`;
}

export async function scratchFolder(options: ScratchOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const memory = options.memoryFolder ?? MEMORY_FOLDER;
  if (platform() !== 'linux' || env.TMPDIR) return tmpdir();
  try {
    const space = await statfs(memory);
    if (space.bavail * space.bsize < (options.minFreeBytes ?? MIN_FREE_BYTES)) return tmpdir();
    await access(memory, constants.W_OK | constants.X_OK);
    return memory;
  } catch {
    return tmpdir();
  }
}
