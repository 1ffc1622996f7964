import type { Command } from 'commander';
import { repair } from '../core/commands/repair.js';
import type { ConfigInput } from '../core/config.js';
import { renderRepair } from '../core/report/text.js';
import { type CliContext, type CommonFlags, configFrom, EXIT, targetLabel } from './context.js';
import { historyOptions, jsonOption, migrationsOption, targetOptions } from './options.js';

interface RepairFlags extends CommonFlags {
  confirm?: string;
  lockWait?: string;
}

export function repairCommand(program: Command, cli: CliContext): void {
  const command = program
    .command('repair')
    .description(
      'Propose the minimal change to the migration history that makes it agree with the local files (a version applied ' +
        'under another name, a renamed file; with --strict-history, versions with no file). Changes only history rows, ' +
        'never the schema, and only with --confirm.',
    );
  targetOptions(command);
  migrationsOption(command);
  historyOptions(command, { includeAll: false })
    .option(
      '--confirm <fingerprint>',
      'apply the proposal: the fingerprint it showed, which names this database and its history as shown',
    )
    .option('--lock-wait <duration>', 'how long to wait for another run’s lock', '5min');
  jsonOption(command).action(async (flags: RepairFlags) => {
    const config = configFrom({ ...flags, lockWaitMs: flags.lockWait } as CommonFlags & ConfigInput, cli.io);
    await cli.report({
      name: 'repair',
      ...(flags.json ? { json: true } : {}),
      targets: targetLabel(config.dbUrl),
      work: () => repair(config, flags.confirm !== undefined ? { confirm: flags.confirm } : {}),
      render: renderRepair,
      exit: (r) => (r.problems.some((problem) => problem.severity === 'error') ? EXIT.error : EXIT.ok),
    });
  });
}
