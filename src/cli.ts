import { runCli } from './cli/program.js';
import { redact } from './core/db/redact.js';
import { installInterruptHandler } from './core/interrupt.js';

/** A live progress line is open on stderr (no newline yet): what else is written starts below it. */
let lineOpen = false;
const toStderr = (text: string) => {
  if (text.length === 0) return;
  process.stderr.write(text);
  lineOpen = !text.endsWith('\n');
};

installInterruptHandler({
  write: (text) => {
    if (lineOpen) toStderr('\n');
    toStderr(redact(text));
  },
});

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => toStderr(redact(text)),
  env: process.env,
  // Every phase's progress on stderr: live on a terminal, plain lines elsewhere (CI logs, pipes).
  progress: { live: process.stderr.isTTY === true, columns: process.stderr.columns },
});
process.exitCode = code;
