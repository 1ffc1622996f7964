import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/core/version.js';

const run = promisify(execFile);

describe('package', () => {
  it('reports the version in package.json', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });

  it('has a committed dist/ that matches the sources', async () => {
    // Fails (non-zero exit, rejected promise) when `npm run bundle` would change dist/.
    const { stdout } = await run(process.execPath, ['scripts/check-dist.mjs']);
    expect(stdout).toContain('dist/ matches the sources.');
  });

  it('declares the Action as node24 running dist/index.js', async () => {
    const action = await readFile('action.yml', 'utf8');
    expect(action).toMatch(/runs:\n\s+using: node24\n\s+main: dist\/index\.js/);
  });
});
