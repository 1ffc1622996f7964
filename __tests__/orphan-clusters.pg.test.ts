import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/core/db/embedded.js';
import { removeOrphanClusters } from '../src/core/db/orphan-clusters.js';

/*
 * A supagate killed with SIGKILL leaves its throwaway cluster running, its folder holding
 * memory in /dev/shm (db/orphan-clusters.ts). The next cluster started there stops and removes
 * it; a cluster whose process lives is never touched.
 */
let folder: string;
const previousTmpdir = process.env.TMPDIR;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'supagate-orphans-'));
  // As a temporary folder is: the server may run as another user (when this runs as root).
  await chmod(folder, 0o1777);
  process.env.TMPDIR = folder;
});
afterAll(async () => {
  if (previousTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmpdir;
  await rm(folder, { recursive: true, force: true });
});

/** A process that starts a cluster, says where, and waits to be killed. */
async function clusterOfAKilledProcess(): Promise<{ root: string; postmaster: number }> {
  const script = `import { startEmbeddedPostgres } from ${JSON.stringify(join(import.meta.dirname, '../src/core/db/embedded.ts'))};
const server = await startEmbeddedPostgres();
console.log(JSON.stringify({ pid: server.pid }));
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, TMPDIR: folder },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (data: Buffer) => resolve(data.toString()));
    child.once('exit', (code) => reject(new Error(`the cluster's process ended with ${code}`)));
  });
  const postmaster = (JSON.parse(line) as { pid: number }).pid;
  const command = await readFile(`/proc/${postmaster}/cmdline`, 'utf8');
  const data = command.split('\0')[command.split('\0').indexOf('-D') + 1] as string;
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  return { root: dirname(data), postmaster };
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('clusters left by a killed supagate', () => {
  it('are stopped and removed by the next start, and a living process’s cluster is left alone', async () => {
    const orphan = await clusterOfAKilledProcess();
    expect(running(orphan.postmaster)).toBe(true);
    expect(existsSync(orphan.root)).toBe(true);

    const alive = await startEmbeddedPostgres();
    try {
      expect(running(orphan.postmaster)).toBe(false);
      expect(existsSync(orphan.root)).toBe(false);
      // This process's own cluster, and a folder that names no owner, stay.
      const unmarked = join(folder, 'supagate-pg-unmarked');
      await mkdir(unmarked);
      await writeFile(join(unmarked, 'owner.json'), 'not json');
      expect(await removeOrphanClusters(folder)).toEqual([]);
      expect(running(alive.pid)).toBe(true);
      expect(existsSync(unmarked)).toBe(true);
    } finally {
      await alive.stop();
    }
  });
});
