import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFromBaseline } from '../src/core/shadow/baseline.js';
import { rememberKey } from '../src/core/shadow/baseline-store.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'supagate-start-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const refused = () => {
  const key = Promise.reject(new Error('permission denied for table pg_db_role_setting'));
  key.catch(() => {});
  return key;
};

describe('starting from a kept baseline', () => {
  it('goes on without the cache when the key cannot be computed: nothing started, nothing to keep', async () => {
    let created = 0;
    const create = async () => {
      created++;
      throw new Error('not expected');
    };
    await rememberKey(root, 'target', 'a'.repeat(64));
    for (const server of [
      undefined,
      { url: 'postgresql://u:p@127.0.0.1:1/x', productionUrl: 'postgresql://u:p@127.0.0.1:1/y' },
    ]) {
      const result = await startFromBaseline(
        { root, target: 'target', key: refused(), scope: {}, ...(server ? { server } : {}) },
        create,
      );
      expect(result).toEqual({ key: undefined, started: undefined });
    }
    // The target's last key names no kept baseline here: nothing was started for it either.
    expect(created).toBe(0);
  });
});
