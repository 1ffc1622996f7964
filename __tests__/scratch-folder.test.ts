import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outOfSpaceHint, scratchFolder } from '../src/core/db/scratch-folder.js';

/*
 * Where throwaway clusters go (db/scratch-folder.ts): a memory-backed folder when it has room,
 * else the temporary folder, which TMPDIR names when set.
 */
describe('the folder of throwaway clusters', () => {
  it('is the memory-backed folder when it has room and TMPDIR is not set', async () => {
    if (process.platform !== 'linux') throw new Error('this test needs Linux, whose /dev/shm it reads');
    expect(await scratchFolder({ env: {}, minFreeBytes: 1 })).toBe('/dev/shm');
  });

  it('is the temporary folder when TMPDIR says where temporary files go', async () => {
    expect(await scratchFolder({ env: { TMPDIR: tmpdir() }, minFreeBytes: 1 })).toBe(tmpdir());
  });

  it('is the temporary folder when the memory-backed one lacks room, or is missing', async () => {
    expect(await scratchFolder({ env: {}, minFreeBytes: Number.MAX_SAFE_INTEGER })).toBe(tmpdir());
    const missing = join(await mkdtemp(join(tmpdir(), 'supagate-scratch-')), 'none');
    try {
      expect(await scratchFolder({ env: {}, memoryFolder: missing, minFreeBytes: 1 })).toBe(tmpdir());
    } finally {
      await rm(join(missing, '..'), { recursive: true, force: true });
    }
  });
});

describe('a shadow out of room', () => {
  it('is told apart by PostgreSQL’s message, with a hint that says where the files are and how to move them', () => {
    const hint = outOfSpaceHint(
      'could not extend file "base/16384/16390": No space left on device (HINT: Check free disk space.)',
    );
    expect(hint).toContain('/dev/shm');
    expect(hint).toContain('TMPDIR');
    expect(outOfSpaceHint('relation "public.notes" does not exist')).toBeUndefined();
  });
});
