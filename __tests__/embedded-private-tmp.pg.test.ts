import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/core/db/embedded.js';

/*
 * A private temporary folder (TMPDIR with mode 0700, as some CI images and `mktemp -d` give).
 * Run as root, the embedded server runs as `postgres`, which cannot enter it: supagate says so,
 * naming the folder and what to do, instead of a bare `spawn … EACCES`, and leaves nothing
 * there. Run as anyone else, the folder is the user's own and the server starts.
 */
let folder: string;
const previousTmpdir = process.env.TMPDIR;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'supagate-private-'));
  await chmod(folder, 0o700);
  process.env.TMPDIR = folder;
});
afterAll(async () => {
  if (previousTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmpdir;
  await rm(folder, { recursive: true, force: true });
});

it('a private TMPDIR: a clear refusal as root, a server otherwise', async () => {
  if (userInfo().uid === 0) {
    const refused = await startEmbeddedPostgres().catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'SHADOW_FAILED' });
    expect((refused as Error).message).toContain(`may not enter ${folder} (mode 0700)`);
    expect((refused as { hint?: string }).hint).toContain('Set TMPDIR');
    expect(await readdir(folder)).toEqual([]);
  } else {
    const server = await startEmbeddedPostgres();
    await server.stop();
    expect(await readdir(folder)).toEqual([]);
  }
});
