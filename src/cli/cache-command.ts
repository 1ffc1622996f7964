import type { Command } from 'commander';
import { type CacheResult, cacheClear, cacheList } from '../core/commands/cache.js';
import { URL_ENV } from '../core/config.js';
import { type CliContext, EXIT, urlFrom } from './context.js';
import { jsonOption } from './options.js';

const CACHE_DIR_HELP =
  'the cache folder (default: $SUPAGATE_CACHE_DIR, $XDG_CACHE_HOME/supagate, ~/.cache/supagate)';

/** cache list, cache clear: the shadow baselines plans keep (--no-shadow-cache turns them off). */
export function cacheCommand(program: Command, cli: CliContext): void {
  const cache = program
    .command('cache')
    .description('Shadow baselines kept to start later plans of the same production from.');
  for (const [name, description, work] of [
    ['list', 'Say how many baselines are kept, and how much room they take.', cacheList],
    ['clear', 'Remove every kept baseline.', cacheClear],
  ] as const) {
    const command = cache
      .command(name)
      .description(description)
      .option('--cache-dir <dir>', CACHE_DIR_HELP)
      .option(
        '--shadow-url <url>',
        'also the template databases kept on this shadow server (default: $SUPAGATE_SHADOW_URL)',
      );
    jsonOption(command).action(async (flags: { cacheDir?: string; shadowUrl?: string; json?: boolean }) => {
      const shadowUrl = urlFrom('--shadow-url', flags.shadowUrl, URL_ENV.shadow, cli.io);
      await cli.report({
        name: `cache ${name}`,
        ...(flags.json ? { json: true } : {}),
        work: () => work({ cacheDir: flags.cacheDir ?? cli.io.env.SUPAGATE_CACHE_DIR, shadowUrl }),
        render: renderCache,
        exit: () => EXIT.ok,
      });
    });
  }
}

function renderCache(result: CacheResult): string {
  const size = `${(result.bytes / 1024 ** 2).toFixed(1)} MB`;
  const count = `${result.baselines} shadow baseline${result.baselines === 1 ? '' : 's'}`;
  const cleared = result.command === 'cache clear';
  const lines = [
    cleared
      ? `Removed ${count} (${size}) from ${result.folder}.`
      : `${count} kept (${size}) in ${result.folder}.`,
  ];
  if (result.templates !== undefined) {
    const templates = `${result.templates} template database${result.templates === 1 ? '' : 's'}`;
    lines.push(
      cleared ? `Dropped ${templates} on the shadow server.` : `${templates} kept on the shadow server.`,
    );
  }
  return lines.join('\n');
}
