import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inject } from 'vitest';
import { type ConfigInput, resolveConfig, type SupagateConfig } from '../../src/core/config.js';

/** A throwaway Supabase project folder: paths relative to its root, e.g. `supabase/migrations/1_a.sql`. */
export interface TestProject {
  dir: string;
  write(path: string, content: string | Buffer): Promise<void>;
  remove(path: string): Promise<void>;
  config(dbUrl: string, overrides?: ConfigInput): SupagateConfig;
  cleanup(): Promise<void>;
}

export async function createProject(files: Record<string, string> = {}): Promise<TestProject> {
  const dir = await mkdtemp(join(tmpdir(), 'supagate-project-'));
  const project: TestProject = {
    dir,
    write: async (path, content) => {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    },
    remove: (path) => rm(join(dir, path), { force: true }),
    // Backups and verification are off unless a test is about them: their default, on, is
    // tested in apply-backup.pg.test.ts, apply-verify.pg.test.ts and through the CLI. The plan
    // (apply's gate) runs on the tests' shadow server, without keeping baselines there (every
    // test's production is another target: each plan would only add and prune templates);
    // the shadow cache is tested in shadow-baseline*.pg.test.ts.
    config: (dbUrl, overrides = {}) =>
      resolveConfig({
        projectDir: dir,
        dbUrl,
        actor: 'tester',
        runId: 'run-1',
        backup: 'off',
        verify: 'off',
        shadowUrl: inject('shadowUrl'),
        detectLocalSupabase: false,
        shadowCache: false,
        ...overrides,
      }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  await mkdir(join(dir, 'supabase/migrations'), { recursive: true });
  for (const [path, content] of Object.entries(files)) await project.write(path, content);
  return project;
}

/** `{ '1_a': sql }` → `{ 'supabase/migrations/1_a.sql': sql }` */
export function migrations(files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files).map(([name, sql]) => [`supabase/migrations/${name}.sql`, sql]),
  );
}

/** Configuration of the demo app (examples/demo-app), planned on the tests' shadow server. */
export function demoApp(): ConfigInput {
  return { projectDir: 'examples/demo-app', shadowUrl: inject('shadowUrl'), detectLocalSupabase: false };
}
