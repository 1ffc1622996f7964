// The npm package as published: `npm pack`, installed into an empty project, where the CLI
// (`npx supagate`) and the library (`import … from 'supagate'`, with its types) must work from
// what the tarball ships. Uses the committed dist/ (package.test.ts checks it is fresh) and
// builds the declarations through `prepack`. The install runs offline-first: `npm ci` filled
// the cache.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

let work: string;
let consumer: string;
let packed: string[];
let installOutput: string;

async function run(command: string, args: string[], cwd: string) {
  return exec(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'supagate-pack-'));
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work], root);
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [
    { filename: string; files: { path: string }[] },
  ];
  packed = info.files.map((f) => f.path).sort();
  consumer = join(work, 'consumer');
  await mkdir(consumer);
  await writeFile(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
  );
  const install = await run(
    npm,
    ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, info.filename)],
    consumer,
  );
  installOutput = install.stdout + install.stderr;
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed npm package', () => {
  it('ships what bin, main, exports and types name, and nothing of the sources', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    const named = [
      ...Object.values(pkg.bin as Record<string, string>),
      pkg.main,
      pkg.types,
      pkg.exports['.'].types,
      pkg.exports['.'].default,
    ].map((path: string) => path.replace(/^\.\//, ''));
    for (const path of named) expect(packed).toContain(path);
    expect(packed).toContain('dist/cli.js');
    expect(packed).toContain('dist/libpg-query.wasm');
    expect(packed.filter((path) => /^(src|__tests__|scripts|examples|bench)\//.test(path))).toEqual([]);
    expect(packed.filter((path) => path.endsWith('.map'))).toEqual([]);
    // The Action's entry (and its artifact client) are for action.yml, not for npm users.
    expect(packed).not.toContain('dist/index.js');
  });

  it('ships every chunk the CLI and the library import, statically or dynamically', async () => {
    const seen = new Set<string>();
    const queue = ['dist/cli.js', 'dist/lib.js'];
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      expect(packed, `imported by the CLI or library: ${file}`).toContain(file);
      const text = await readFile(join(consumer, 'node_modules/supagate', file), 'utf8');
      for (const match of text.matchAll(/(?:from\s*|import\s*\(\s*)["']\.\/([^"']+\.js)["']/g))
        queue.push(`dist/${match[1]}`);
    }
    expect(seen.size).toBeGreaterThan(2);
  });

  it('installs without an engine warning', () => {
    expect(installOutput).not.toMatch(/EBADENGINE|Unsupported engine/);
  });

  it('runs the CLI with npx', async () => {
    const { stdout } = await run(npx, ['--no', '--', 'supagate', '--help'], consumer);
    for (const command of ['plan', 'apply', 'rollback', 'drift', 'verify', 'status', 'copy'])
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('imports the library, whose commands find the SQL parser', async () => {
    await mkdir(join(consumer, 'supabase/migrations'), { recursive: true });
    await writeFile(join(consumer, 'supabase/migrations/20240101000000_t.sql'), 'create table t (id int);\n');
    const script = `
      const m = await import('supagate');
      // plan parses the migrations before it connects: getting as far as the connection proves
      // the parser's WebAssembly was found beside the bundled library (without it: an abort).
      let connectError;
      try { await m.plan(m.resolveConfig({ dbUrl: 'postgresql://u:p@127.0.0.1:1/db' })); } catch (e) { connectError = e; }
      let configError;
      try { m.resolveConfig({ atomic: 'sometimes' }); } catch (e) { configError = e; }
      console.log(JSON.stringify({
        exports: Object.keys(m).sort(),
        connect: m.isSupagateError(connectError) ? connectError.code : String(connectError),
        config: configError instanceof m.SupagateError ? configError.code : String(configError),
        error: m.renderError(configError).length > 0,
        json: JSON.parse(m.renderJsonError('plan', configError)).error.code,
      }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], consumer);
    const out = JSON.parse(stdout);
    expect(out.exports).toEqual(
      expect.arrayContaining([
        'apply',
        'backupsList',
        'cacheClear',
        'cacheList',
        'copyDatabase',
        'diffDatabases',
        'drift',
        'plan',
        'renderApplyMarkdown',
        'renderDriftMarkdown',
        'renderError',
        'renderJson',
        'renderPlan',
        'renderPlanMarkdown',
        'resolveConfig',
        'rollback',
        'rollbackToBackup',
        'status',
        'SupagateError',
        'verify',
        'VERSION',
      ]),
    );
    expect(out).toMatchObject({
      connect: 'DB_CONNECT_FAILED',
      config: 'CONFIG_INVALID',
      error: true,
      json: 'CONFIG_INVALID',
    });
  });

  it('type-checks a TypeScript consumer against the shipped declarations', async () => {
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    await writeFile(
      join(consumer, 'consumer.ts'),
      [
        "import { type ApplyResult, apply, type PlanResult, plan, renderPlanMarkdown, resolveConfig, type SupagateConfig, SupagateError } from 'supagate';",
        "const config: SupagateConfig = resolveConfig({ dbUrl: 'postgresql://localhost/db', atomic: 'all' });",
        'export async function run(): Promise<string> {',
        '  const result: PlanResult = await plan(config);',
        "  const applied: ApplyResult = await apply(config, { dryRun: true, hooks: { beforeApply: async ({ client }) => { await client.query('select 1'); } } });",
        "  if (applied.status === 'blocked') throw new SupagateError('PLAN_FAILED', applied.blockingReasons.join('\\n'));",
        '  return renderPlanMarkdown(result, { limit: 65_536 });',
        '}',
        // The declarations are real, not `any`: a wrong option is an error (else this directive is).
        '// @ts-expect-error dbUrl is a string',
        'export const wrong = () => plan(resolveConfig({ dbUrl: 1 }));',
        '',
      ].join('\n'),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer)).resolves.toBeDefined();
  }, 120_000);
});
