import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * Runs the built Action (dist/index.js) the way the GitHub runner does: inputs as INPUT_*
 * variables, an event payload file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
 */
export interface ActionRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

export async function runAction(
  inputs: Record<string, string>,
  options: { event?: object; eventName?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), 'supagate-action-'));
  try {
    const files = {
      output: join(dir, 'output'),
      summary: join(dir, 'summary'),
      event: join(dir, 'event.json'),
    };
    await writeFile(files.output, '');
    await writeFile(files.summary, '');
    await writeFile(files.event, JSON.stringify(options.event ?? {}));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_EVENT_PATH: files.event,
      GITHUB_EVENT_NAME: options.eventName ?? 'push',
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_ACTOR: 'octocat',
      GITHUB_RUN_ID: '4242',
      ...options.env,
    };
    // The runner sets every input, the defaults of action.yml included, and keeps the
    // name's dashes: `db-url` → INPUT_DB-URL.
    for (const [name, value] of Object.entries({ ...(await actionDefaults()), ...inputs })) {
      env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
    }
    const { exitCode, stdout, stderr } = await new Promise<{
      exitCode: number;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(process.execPath, [actionEntry()], { env }, (error, stdout, stderr) => {
        resolve({ exitCode: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseOutputs(await readFile(files.output, 'utf8')),
      summary: await readFile(files.summary, 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The bundle to run: dist/index.js, or SUPAGATE_ACTION_DIST (a folder from
 * `node scripts/bundle.mjs --outdir DIR`) to test a change without rewriting dist/.
 */
function actionEntry(): string {
  const dir = process.env.SUPAGATE_ACTION_DIST;
  return dir ? join(dir, 'index.js') : join(process.cwd(), 'dist/index.js');
}

async function actionDefaults(): Promise<Record<string, string>> {
  const action = parse(await readFile(join(process.cwd(), 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  return Object.fromEntries(
    Object.entries(action.inputs).map(([name, input]) => [
      name,
      input.default === undefined ? '' : String(input.default),
    ]),
  );
}

/** GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(pattern)) outputs[match[1] as string] = match[3] as string;
  return outputs;
}
