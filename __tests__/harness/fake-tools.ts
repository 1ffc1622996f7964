import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A stand-in pg_dump: answers --version like pg_dump 15, then runs the shell `body`. */
export async function fakePgDump(dir: string, body: string): Promise<string> {
  const path = join(dir, `pg_dump-${randomBytes(4).toString('hex')}`);
  await writeFile(
    path,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 15.99"; exit 0; fi\n${body}\n`,
  );
  await chmod(path, 0o755);
  return path;
}
