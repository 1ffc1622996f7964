import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * Throwaway clusters whose supagate process died without stopping them (killed with SIGKILL,
 * the machine's memory exhausted): their server may still run, and their folder, in a
 * memory-backed folder, holds memory until the next reboot. Each cluster's folder names the
 * process that owns it; the next supagate that starts a cluster there stops the server of any
 * folder whose owner is gone and removes the folder. A folder without that note (another
 * version's, or being created) is left alone.
 */

const OWNER = 'owner.json';
const PREFIX = 'supagate-pg-';

interface Owner {
  pid: number;
  /** The owner's start, in clock ticks since boot (Linux), so that a reused pid is not taken for it. */
  started?: string;
}

/** Marks `root` (a cluster's folder) as this process's. */
export async function markOwner(root: string): Promise<void> {
  const owner: Owner = { pid: process.pid, ...withStart(await startOf(process.pid)) };
  await writeFile(join(root, OWNER), JSON.stringify(owner), { mode: 0o600 });
}

/** Stops and removes the clusters in `folder` whose owning process is gone; returns their folders. */
export async function removeOrphanClusters(folder: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names.filter((n) => n.startsWith(PREFIX))) {
    const root = join(folder, name);
    const owner = await readOwner(root);
    if (!owner || (await isAlive(owner)) || !(await stopServerOf(root))) continue;
    await rm(root, { recursive: true, force: true });
    removed.push(root);
  }
  return removed;
}

async function readOwner(root: string): Promise<Owner | undefined> {
  try {
    const owner = JSON.parse(await readFile(join(root, OWNER), 'utf8')) as Owner;
    return Number.isInteger(owner.pid) && owner.pid > 0 ? owner : undefined;
  } catch {
    return undefined;
  }
}

async function isAlive(owner: Owner): Promise<boolean> {
  if (!processExists(owner.pid)) return false;
  // Linux says when a process started: the same pid with another start is another process.
  const started = await startOf(owner.pid);
  return owner.started === undefined || started === undefined || started === owner.started;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat: the process's start time since boot. */
async function startOf(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name (field 2) is in parentheses and may hold spaces: count after it.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[19];
}

function withStart(started: string | undefined): Pick<Owner, 'started'> {
  return started === undefined ? {} : { started };
}

/**
 * True once no server runs in the cluster in `root`: none did, or its postmaster (the pid in
 * postmaster.pid, checked in /proc to serve that very data directory) was stopped. False when
 * that cannot be told (no /proc): the folder is then left alone.
 */
async function stopServerOf(root: string): Promise<boolean> {
  const data = join(root, 'data');
  const pidFile = await readFile(join(data, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(pidFile?.split('\n', 1)[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) return true;
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (command === undefined) return false;
  // The pid was reused by another process: the cluster's server is gone.
  if (!command.split('\0').includes(data)) return true;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return false;
  }
  for (let waited = 0; waited < 5_000; waited += 50) {
    if (!processExists(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
