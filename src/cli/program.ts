import { Command, CommanderError } from 'commander';
import { SupagateError } from '../core/errors.js';
import { renderJsonError } from '../core/report/json.js';
import { renderError } from '../core/report/text.js';
import { VERSION } from '../core/version.js';
import { applyCommand } from './apply-command.js';
import { cacheCommand } from './cache-command.js';
import { type CliIo, createContext, EXIT } from './context.js';
import { backupsCommand, copyCommand, diffCommand } from './data-commands.js';
import { driftCommand, planCommand, statusCommand, verifyCommand } from './read-commands.js';
import { repairCommand } from './repair-command.js';
import { rollbackCommand } from './rollback-command.js';

export { type CliIo, EXIT } from './context.js';
export { planExit } from './read-commands.js';

const ENVIRONMENT_HELP = `
Environment (connection strings belong here rather than on the command line, where \`ps\` shows them):
  SUPAGATE_DB_URL          target database (--db-url)
  SUPAGATE_SHADOW_URL      shadow server (--shadow-url)
  SUPAGATE_COPY_FROM_URL   copy: source database (--from)
  SUPAGATE_COPY_TO_URL     copy: target database (--to)
  SUPAGATE_DIFF_FROM_URL   diff: "before" database (--from)
  SUPAGATE_DIFF_TO_URL     diff: "after" database (--to)
  SUPAGATE_BACKUP_KEY      encrypts backups
  SUPAGATE_SHADOW_CACHE    off: no kept shadow baselines (--no-shadow-cache)
  SUPAGATE_CACHE_DIR       where shadow baselines are kept (--cache-dir)
  NO_COLOR                 no colours in the progress on stderr`;

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command()
    .name('supagate')
    .description(
      'Safe Supabase/PostgreSQL migrations: status, repair, plan, apply, rollback, drift, verify, backups, copy, diff.',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError()
    .addHelpText('after', ENVIRONMENT_HELP);
  const cli = createContext(io, (code) => {
    exitCode = code;
  });
  for (const register of [
    statusCommand,
    repairCommand,
    applyCommand,
    planCommand,
    rollbackCommand,
    backupsCommand,
    copyCommand,
    driftCommand,
    verifyCommand,
    diffCommand,
    cacheCommand,
  ])
    register(program, cli);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // A setting refused while the command's options are read, before the command runs.
    if (error instanceof SupagateError) {
      const json = argv.includes('--json');
      io.stderr(`${json ? renderJsonError(argv[0] ?? 'supagate', error) : renderError(error)}\n`);
      return EXIT.error;
    }
    throw error;
  }
  return exitCode;
}
