import { runCli } from './cli/program.js';
import { redact } from './core/db/redact.js';
import { installInterruptHandler } from './core/interrupt.js';

installInterruptHandler({ write: (text) => process.stderr.write(redact(text)) });

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(redact(text)),
  env: process.env,
  // Every phase's progress on stderr: live on a terminal, plain lines elsewhere (CI logs, pipes).
  progress: { live: process.stderr.isTTY === true },
});
process.exitCode = code;
