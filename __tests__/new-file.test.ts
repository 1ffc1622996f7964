import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamToNewFile } from '../src/core/new-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'supagate-new-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const failing = () =>
  new Readable({
    read() {
      this.destroy(new Error('the source broke'));
    },
  });

describe('streamToNewFile', () => {
  it('writes the stream to a file only its owner can read', async () => {
    const path = join(dir, 'out');
    const upper = new Transform({
      transform(chunk, _encoding, done) {
        done(null, String(chunk).toUpperCase());
      },
    });
    await streamToNewFile(Readable.from(['abc', 'def']), path, [upper]);
    expect(await readFile(path, 'utf8')).toBe('ABCDEF');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('leaves no file when the source fails before the file was even opened', async () => {
    // The failure comes before the writer's open() completes; run it often enough to catch
    // the file appearing after an early removal.
    for (let i = 0; i < 50; i += 1) {
      await expect(streamToNewFile(failing(), join(dir, `out-${i}`))).rejects.toThrow('the source broke');
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an existing path and leaves that file as it was', async () => {
    const path = join(dir, 'taken');
    await writeFile(path, 'someone else');
    await expect(streamToNewFile(Readable.from(['mine']), path)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(streamToNewFile(failing(), path)).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toBe('someone else');
  });
});
