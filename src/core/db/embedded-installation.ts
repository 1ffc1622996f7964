import { execFile } from 'node:child_process';
import {
  chmod,
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { SupagateError } from '../errors.js';
import type { ServerBinaries, ServerUser } from './embedded-binaries.js';

/**
 * A private PostgreSQL installation: the server's programs, in a folder of the cluster's own,
 * whose extension directory holds extra files (supagate's stand-in extensions, or a control
 * file changed for a test server).
 *
 * PostgreSQL finds its share directory (and with it the extension directory) relative to
 * where the running `postgres` executable is, after resolving symbolic links. So the programs
 * are hard-linked (copied when the file system refuses), the directories on the way to the
 * share and extension directories are real, and everything else links to the original: a few
 * hundred symbolic links, no copy of the installation.
 */
export interface ExtensionFile {
  /** File name in the extension directory: `vector.control`, `vector--0.8.0.sql`. */
  name: string;
  contents: string;
}

const run = promisify(execFile);

export async function privateInstallation(
  binaries: ServerBinaries,
  folder: string,
  extensionFiles: ExtensionFile[],
  user: ServerUser | undefined,
  trusted: readonly string[] = [],
): Promise<ServerBinaries> {
  const bindir = dirname(binaries.postgres);
  const sharedir = await shareDirectory(binaries.initdb, user);
  const root = commonAncestor(bindir, sharedir);
  const extensionDir = join(sharedir, 'extension');
  const real = new Set([bindir, sharedir, extensionDir].flatMap((path) => pathsBetween(root, path)));
  await mirror(root, folder, real);
  const privateBin = join(folder, relative(root, bindir));
  const programs: ServerBinaries = {
    initdb: join(privateBin, 'initdb'),
    postgres: join(privateBin, 'postgres'),
  };
  await Promise.all([
    linkOrCopy(binaries.initdb, programs.initdb),
    linkOrCopy(binaries.postgres, programs.postgres),
  ]);
  const privateExtensions = join(folder, relative(root, extensionDir));
  const trustedControls = await trustedControlFiles(extensionDir, trusted);
  for (const file of [...trustedControls, ...extensionFiles]) {
    // Never written through a link: the overlay replaces the link (to a control file, say).
    const path = join(privateExtensions, file.name);
    await rm(path, { force: true });
    await writeFile(path, file.contents, { mode: 0o644 });
  }
  return programs;
}

/**
 * The control files of these installed extensions, marked trusted: a non-superuser may create
 * them (as Supabase lets its postgres create some that PostgreSQL does not). Those the server
 * lacks are left out.
 */
async function trustedControlFiles(extensionDir: string, names: readonly string[]): Promise<ExtensionFile[]> {
  const files: ExtensionFile[] = [];
  for (const name of names) {
    const control = await readFile(join(extensionDir, `${name}.control`), 'utf8').catch(() => undefined);
    if (control === undefined) continue;
    const lines = control.split('\n').filter((line) => !/^\s*trusted\s*=/.test(line));
    files.push({ name: `${name}.control`, contents: `${lines.join('\n').trimEnd()}\ntrusted = true\n` });
  }
  return files;
}

/** initdb knows the share directory it was built for, relative to where it is: `initdb --show`. */
async function shareDirectory(initdb: string, user: ServerUser | undefined): Promise<string> {
  let output = '';
  try {
    const { stdout, stderr } = await run(initdb, ['--show', '--pgdata=/nonexistent'], {
      env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
      cwd: '/',
      // initdb refuses to run as root.
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    // The settings are printed on stderr.
    output = `${stdout}\n${stderr}`;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    output = `${failed.stdout ?? ''}\n${failed.stderr ?? ''}`;
  }
  const line = output.split('\n').find((entry) => entry.startsWith('share_path='));
  if (line) return line.slice('share_path='.length).trim();
  throw new SupagateError('SHADOW_FAILED', `Could not find the share directory of ${initdb}.`, {
    hint: 'Reinstall supagate’s dependencies (npm ci), or give a throwaway server with --shadow-url.',
  });
}

function commonAncestor(a: string, b: string): string {
  const left = a.split(sep);
  const right = b.split(sep);
  let i = 0;
  while (i < left.length && i < right.length && left[i] === right[i]) i++;
  return left.slice(0, i).join(sep) || sep;
}

/** `root`, then every directory from it down to `path`. */
function pathsBetween(root: string, path: string): string[] {
  const paths = [root];
  let current = root;
  for (const part of relative(root, path).split(sep).filter(Boolean)) {
    current = join(current, part);
    paths.push(current);
  }
  return paths;
}

/** A real directory for each path in `real`, a symbolic link to the original for anything else. */
async function mirror(original: string, copy: string, real: Set<string>): Promise<void> {
  await mkdir(copy, { recursive: true, mode: 0o755 });
  for (const entry of await readdir(original)) {
    const from = join(original, entry);
    const to = join(copy, entry);
    if (real.has(from) && (await lstat(from)).isDirectory()) await mirror(from, to, real);
    else await symlink(from, to);
  }
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await rm(to, { force: true });
  try {
    await link(from, to);
  } catch {
    // Another file system, or a file the user may not hard-link: a copy, mode included.
    await copyFile(from, to);
    await chmod(to, (await stat(from)).mode);
  }
}
