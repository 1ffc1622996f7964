import { execFile } from 'node:child_process';
import { chmod, chown, cp, readdir, rm, stat } from 'node:fs/promises';
import { platform } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServerUser } from './embedded-binaries.js';

/*
 * Copies of a stopped embedded cluster's data directory: how a cached shadow baseline is kept
 * (shadow/baseline-store.ts) and started again. PostgreSQL starts only from a data directory
 * that its user owns and that others cannot read, so a copy made for the server's user (when
 * supagate runs as root, the server runs as another user) is handed over whole.
 */

/** Files of a running or stopped server that a copy must not carry. */
const NOT_COPIED = new Set(['postmaster.pid', 'postmaster.opts']);

/**
 * Copies a stopped cluster's data directory to `destination` (which must not exist). The
 * system's `cp -a` where there is one (thousands of small files: three times faster than
 * Node's fs.cp, and it keeps their owner), else fs.cp.
 */
export async function copyDataDirectory(
  source: string,
  destination: string,
  owner?: ServerUser,
  signal?: AbortSignal,
): Promise<void> {
  // supagate's clusters have none; one in a kept copy would have the server write through it.
  const link = (await readdir(source, { withFileTypes: true, recursive: true })).find((entry) =>
    entry.isSymbolicLink(),
  );
  if (link)
    throw new Error(
      `${join(link.parentPath, link.name)} is a symbolic link: not a data directory supagate made`,
    );
  if (platform() === 'win32' || !(await systemCopy(source, destination, signal))) {
    await rm(destination, { recursive: true, force: true });
    await cp(source, destination, { recursive: true, errorOnExist: true, force: false });
  }
  for (const name of NOT_COPIED) await rm(join(destination, name), { force: true });
  await chmod(destination, 0o700);
  if (owner && (await stat(destination)).uid !== owner.uid) await chownTree(destination, owner);
}

async function systemCopy(source: string, destination: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await promisify(execFile)('cp', ['-a', source, destination], {
      env: { PATH: '/usr/bin:/bin' },
      ...(signal ? { signal } : {}),
    });
    return true;
  } catch {
    signal?.throwIfAborted();
    return false;
  }
}

async function chownTree(root: string, owner: ServerUser): Promise<void> {
  await chown(root, owner.uid, owner.gid);
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    await chown(join(entry.parentPath, entry.name), owner.uid, owner.gid);
  }
}

/** Removes a copy (or a partial one). */
export async function removeDataDirectory(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
