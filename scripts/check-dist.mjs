// Fails when dist/ does not match a fresh bundle of the sources: run `npm run bundle` and commit dist/.

import { execFileSync } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fresh = join(tmpdir(), `supagate-dist-${process.pid}`);
execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), '--outdir', fresh], { stdio: 'inherit' });

async function files(dir) {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
      .sort();
  } catch {
    return [];
  }
}

const [expected, actual] = [await files(fresh), await files(join(root, 'dist'))];
const problems = [];
for (const name of new Set([...expected, ...actual])) {
  if (!actual.includes(name)) problems.push(`missing in dist/: ${name}`);
  else if (!expected.includes(name)) problems.push(`not produced by the bundle: dist/${name}`);
  else if (!(await readFile(join(fresh, name))).equals(await readFile(join(root, 'dist', name))))
    problems.push(`differs: dist/${name}`);
}
await rm(fresh, { recursive: true, force: true });
if (problems.length > 0) {
  console.error(`dist/ is stale:\n  ${problems.join('\n  ')}\nRun \`npm run bundle\` and commit dist/.`);
  process.exit(1);
}
console.log('dist/ matches the sources.');
