import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../src/core/commands/plan.js';
import { createTestDatabase, snapshot, type TestDatabase } from './harness/db.js';
import { GATE_NEUTRAL } from './harness/gate.js';
import { createProject, migrations, type TestProject } from './harness/project.js';

/*
 * The embedded shadow keeps its files in /dev/shm or in TMPDIR (db/scratch-folder.ts); there
 * it can run out of room, here on a small tmpfs given as TMPDIR. Mounting needs root
 * (CAP_SYS_ADMIN), as CI has: without it this test fails and says so.
 */
const run = promisify(execFile);
let mountPoint: string;
let mountError: string | undefined;
let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  mountPoint = await mkdtemp(join(tmpdir(), 'supagate-smallshm-'));
  mountError = await run('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mountPoint]).then(
    () => undefined,
    (error: Error) => error.message,
  );
  db = await createTestDatabase({ plain: true });
  await db.query('create table public.t (id int)');
  project = await createProject(
    migrations({ '1_fill': 'insert into public.t select g from generate_series(1, 5000000) g;' }),
  );
});
afterAll(async () => {
  if (mountError === undefined) await run('umount', [mountPoint]);
  await rm(mountPoint, { recursive: true, force: true });
  await project.cleanup();
  await db.drop();
});

describe('a shadow out of room', () => {
  it('fails the plan as the environment’s, saying where the files were and how to move them; production untouched', async () => {
    expect(mountError, 'this test mounts a small tmpfs: run it as root (CI does)').toBeUndefined();
    const before = await snapshot(db);
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = mountPoint;
    try {
      const result = await plan(project.config(db.url, { ...GATE_NEUTRAL, shadowUrl: undefined }));
      expect(result.status).toBe('failed');
      expect(result.failure).toMatchObject({
        kind: 'environment',
        file: 'supabase/migrations/1_fill.sql',
        line: 1,
      });
      expect(result.failure?.message).toMatch(/No space left on device/);
      expect(result.failure?.hint).toContain('set TMPDIR to a folder with more room');
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
    // The shadow's cluster is gone with its files, and production is as it was.
    expect((await readdir(mountPoint)).filter((name) => name.startsWith('supagate-pg-'))).toEqual([]);
    expect(await snapshot(db)).toEqual(before);
  });
});
