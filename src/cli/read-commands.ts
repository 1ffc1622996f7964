import type { Command } from 'commander';
import { type DriftAgainst, drift } from '../core/commands/drift.js';
import { type PlanResult, plan } from '../core/commands/plan.js';
import { status } from '../core/commands/status.js';
import { verify } from '../core/commands/verify.js';
import type { ConfigInput } from '../core/config.js';
import { SupagateError } from '../core/errors.js';
import { renderDrift, renderPlan, renderStatus, renderVerify } from '../core/report/text.js';
import {
  type CliContext,
  type CommonFlags,
  configFrom,
  EXIT,
  type ShadowFlags,
  shadowSettings,
  targetLabel,
} from './context.js';
import {
  apiSchemasOption,
  historyOptions,
  jsonOption,
  migrationsOption,
  outOption,
  PROGRESS_HELP,
  pgToolOptions,
  schemasOption,
  shadowOptions,
  targetOptions,
} from './options.js';
import { assertSupabaseDatabase } from './preflight.js';

/** A plan the shadow could not make (it lacks an extension production has) is an error to fix in the setup, not a finding. */
export function planExit(result: Pick<PlanResult, 'blocking' | 'failure'>): number {
  if (result.failure?.kind === 'environment') return EXIT.error;
  return result.blocking ? EXIT.blocking : EXIT.ok;
}

const dbSetting = (flags: CommonFlags) => (flags.dbUrl ? '--db-url' : '$SUPAGATE_DB_URL');

/* The commands that read production and change nothing: status, plan, drift, verify. */

export function statusCommand(program: Command, cli: CliContext): void {
  const statusCommand = program
    .command('status')
    .description(
      'Compare local migration files with the database history: applied, pending, edited, missing. Read-only.',
    );
  targetOptions(statusCommand);
  migrationsOption(statusCommand);
  historyOptions(statusCommand, { includeAll: true });
  jsonOption(statusCommand).action(async (flags: CommonFlags) => {
    const config = configFrom(flags, cli.io);
    await cli.report({
      name: 'status',
      ...(flags.json ? { json: true } : {}),
      targets: targetLabel(config.dbUrl),
      work: () => status(config),
      render: renderStatus,
      exit: (r) => (r.ok ? EXIT.ok : EXIT.error),
    });
  });
}

export function planCommand(program: Command, cli: CliContext): void {
  const planCommand = program
    .command('plan')
    .description(
      'What the pending migrations will do to production: schema diff, hazards, security lints, RLS access changes. ' +
        'Production is only read; the migrations run in a shadow database. Exit 3 when something blocks.',
    );
  targetOptions(planCommand);
  migrationsOption(planCommand);
  historyOptions(planCommand, { includeAll: true });
  schemasOption(planCommand);
  shadowOptions(planCommand);
  pgToolOptions(planCommand);
  apiSchemasOption(planCommand)
    .option('--roles <list>', 'more roles for the RLS access matrix, comma-separated')
    .option('--large-table-rows <n>', 'rows from which a table counts as large for locking hazards', '100000')
    .option(
      '--data-checks <on|off>',
      "count production's rows that would make a statement fail (NULLs, duplicates, orphans), read-only",
      'on',
    )
    .option('--data-check-timeout <duration>', 'each data check gives up after this long', '10s')
    .option(
      '--data-check-sample-above-rows <n>',
      'tables with more rows than this (estimated) are checked on a sample, not counted in full',
      '10000000',
    )
    .option(
      '--data-check-key-values <n>',
      'show the primary key values of up to n rows in the way of each failing data check (0: counts only)',
      '0',
    )
    .option(
      '--declared-schema <check|off>',
      'build the declared schema files (supabase/schemas) on a fresh Supabase shadow and compare them with what the migrations produce',
      'check',
    );
  outOption(planCommand);
  jsonOption(planCommand)
    .addHelpText('after', PROGRESS_HELP)
    .action(
      async (
        flags: CommonFlags &
          ShadowFlags & {
            roles?: string;
            largeTableRows?: string;
            dataCheckSampleAboveRows?: string;
            dataCheckTimeout?: string;
            out?: string;
          },
      ) => {
        const config = configFrom(
          {
            ...flags,
            ...shadowSettings(flags, cli.io),
            extraRoles: flags.roles,
            dataCheckTimeoutMs: flags.dataCheckTimeout,
          } as CommonFlags & ConfigInput,
          cli.io,
        );
        await cli.report({
          name: 'plan',
          ...(flags.json ? { json: true } : {}),
          targets: targetLabel(config.dbUrl),
          work: async () => {
            await assertSupabaseDatabase(config.dbUrl, dbSetting(flags));
            return plan(config);
          },
          render: renderPlan,
          exit: planExit,
          ...(flags.out ? { out: flags.out } : {}),
        });
      },
    );
}

export function driftCommand(program: Command, cli: CliContext): void {
  const driftCommand = program
    .command('drift')
    .description(
      'Does production still look like what its applied migrations produce? Replays them on a shadow holding only ' +
        'what Supabase provides and compares the result with production, which is only read. Exit 3 when it drifted.',
    );
  targetOptions(driftCommand);
  migrationsOption(driftCommand);
  historyOptions(driftCommand, { includeAll: false });
  schemasOption(driftCommand);
  shadowOptions(driftCommand);
  pgToolOptions(driftCommand);
  outOption(driftCommand).option(
    '--against <migrations|declared>',
    'compare production with what its applied migrations produce, or with the declared schema files (supabase/schemas)',
    'migrations',
  );
  jsonOption(driftCommand)
    .addHelpText('after', PROGRESS_HELP)
    .action(async (flags: CommonFlags & ShadowFlags & { out?: string; against?: string }) => {
      const config = configFrom(
        { ...flags, ...shadowSettings(flags, cli.io) } as CommonFlags & ConfigInput,
        cli.io,
      );
      const against = driftAgainst(flags.against);
      await cli.report({
        name: 'drift',
        ...(flags.json ? { json: true } : {}),
        targets: targetLabel(config.dbUrl),
        work: async () => {
          await assertSupabaseDatabase(config.dbUrl, dbSetting(flags));
          return drift(config, { against });
        },
        render: renderDrift,
        exit: (r) => (r.status === 'in-sync' ? EXIT.ok : r.status === 'drifted' ? EXIT.blocking : EXIT.error),
        ...(flags.out ? { out: flags.out } : {}),
      });
    });
}

function driftAgainst(value: string | undefined): DriftAgainst {
  if (value === undefined || value === 'migrations' || value === 'declared') return value ?? 'migrations';
  throw new SupagateError('CONFIG_INVALID', `Invalid value for against: "${value}"`, {
    hint: 'Use "migrations" (what the applied migrations produce) or "declared" (the schema files in supabase/schemas).',
    details: { setting: 'against' },
  });
}

export function verifyCommand(program: Command, cli: CliContext): void {
  const verifyCommand = program
    .command('verify')
    .description(
      'Check production as it is now: every table of the API schemas has row level security, each identity of ' +
        'supabase/supagate.yml sees what its expectations say, the verify scripts in supabase/verify pass. ' +
        'Only reads. Exit 3 when a check fails.',
    );
  targetOptions(verifyCommand);
  schemasOption(verifyCommand);
  apiSchemasOption(verifyCommand);
  jsonOption(verifyCommand).action(async (flags: CommonFlags & { apiSchemas?: string }) => {
    const config = configFrom(flags as CommonFlags & ConfigInput, cli.io);
    await cli.report({
      name: 'verify',
      ...(flags.json ? { json: true } : {}),
      targets: targetLabel(config.dbUrl),
      work: async () => {
        await assertSupabaseDatabase(config.dbUrl, dbSetting(flags));
        return verify(config);
      },
      render: renderVerify,
      exit: (r) => (r.ok ? EXIT.ok : EXIT.blocking),
    });
  });
}
