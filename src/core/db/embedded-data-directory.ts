import { chmod, chown, cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerUser } from './embedded-binaries.js';

/*
 * Copies of a stopped embedded cluster's data directory: how a cached shadow baseline is kept
 * (shadow/baseline-store.ts) and started again. PostgreSQL starts only from a data directory
 * that its user owns and that others cannot read, so a copy made for the server's user (when
 * supagate runs as root, the server runs as another user) is handed over whole.
 */

/** Files of a running or stopped server that a copy must not carry. */
const NOT_COPIED = new Set(['postmaster.pid', 'postmaster.opts']);

/** Copies a stopped cluster's data directory to `destination` (which must not exist). */
export async function copyDataDirectory(
  source: string,
  destination: string,
  owner?: ServerUser,
): Promise<void> {
  await cp(source, destination, {
    recursive: true,
    errorOnExist: true,
    force: false,
    filter: (path) => !NOT_COPIED.has(path.slice(source.length + 1)),
  });
  await chmod(destination, 0o700);
  if (owner) await chownTree(destination, owner);
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
