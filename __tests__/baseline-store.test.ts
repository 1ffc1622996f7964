import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { emptyModel } from '../src/core/schema/model.js';
import {
  type BaselineRecord,
  cacheRoot,
  findBaseline,
  keepBaseline,
  keptModel,
  listBaselines,
  pruneBaselines,
} from '../src/core/shadow/baseline-store.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'supagate-store-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Keeps a fake baseline of `bytes` bytes, used `ageSeconds` ago. */
async function keep(key: string, bytes: number, ageSeconds: number): Promise<void> {
  const record = { key, catalogDigest: 'd', warnings: [] };
  await keepBaseline(root, record, emptyModel(), async (data) => {
    await mkdir(data);
    await writeFile(join(data, 'file'), Buffer.alloc(bytes));
    return { database: 'shadow', superuser: 'supabase_admin', password: 'secret' };
  });
  const when = new Date(Date.now() - ageSeconds * 1000);
  await utimes(join(root, 'shadow-baselines', key, 'baseline.json'), when, when);
}

describe('kept shadow baselines', () => {
  it('are found by key, with their record and data directory; nothing half-written is left', async () => {
    await keep('a'.repeat(64), 10, 0);
    const found = await findBaseline(root, 'a'.repeat(64));
    expect(found?.record).toMatchObject({
      key: 'a'.repeat(64),
      database: 'shadow',
      bytes: 10,
      catalogDigest: 'd',
    });
    expect(await keptModel(root, found?.record as BaselineRecord)).toEqual(emptyModel());
    expect(found?.dataDirectory).toBe(join(root, 'shadow-baselines', 'a'.repeat(64), 'data'));
    expect(await findBaseline(root, 'b'.repeat(64))).toBeUndefined();
    expect(await readdir(join(root, 'shadow-baselines'))).toEqual(['a'.repeat(64)]);
  });

  it('are pruned least recently used first, beyond the count or the size allowed', async () => {
    await keep('old', 100, 300);
    await keep('mid', 100, 200);
    await keep('new', 100, 100);
    await pruneBaselines(root, { entries: 2, bytes: 1_000 });
    expect((await listBaselines(root)).map((entry) => entry.key).sort()).toEqual(['mid', 'new']);
    // Finding one makes it the most recently used.
    await findBaseline(root, 'mid');
    await pruneBaselines(root, { entries: 5, bytes: 150 });
    expect((await listBaselines(root)).map((entry) => entry.key)).toEqual(['mid']);
  });

  it('go with `supagate cache clear`, and `cache list` says what is kept', async () => {
    await keep('one', 2 * 1024 ** 2, 0);
    const out: string[] = [];
    const io = { stdout: (text: string) => out.push(text), stderr: () => {}, env: {} };
    expect(await runCli(['cache', 'list', '--cache-dir', root], io)).toBe(0);
    expect(out.join('')).toBe(`1 shadow baseline kept (2.0 MB) in ${root}.\n`);
    expect(await runCli(['cache', 'clear', '--cache-dir', root], io)).toBe(0);
    expect(out.at(-1)).toBe(`Removed 1 shadow baseline (2.0 MB) from ${root}.\n`);
    expect(await listBaselines(root)).toEqual([]);
  });

  it('live under --cache-dir, else $XDG_CACHE_HOME/supagate, else ~/.cache/supagate', () => {
    expect(cacheRoot('/x')).toBe('/x');
    expect(cacheRoot(undefined, { XDG_CACHE_HOME: '/cache' })).toBe('/cache/supagate');
    expect(cacheRoot(undefined, {})).toMatch(/\.cache\/supagate$/);
  });
});
