import { cacheRoot, clearBaselines, listBaselines } from '../shadow/baseline-store.js';
import { clearTemplates, countTemplates } from '../shadow/baseline-template.js';

/**
 * `supagate cache list` / `cache clear`: the shadow baselines kept for later plans
 * (shadow/baseline.ts): in the cache folder, and with a shadow server, its template databases.
 */
export interface CacheResult {
  command: 'cache list' | 'cache clear';
  /** The cache folder. */
  folder: string;
  /** Baselines kept (list) or removed (clear) in the folder. */
  baselines: number;
  bytes: number;
  /** With a shadow server: its template databases kept (list) or dropped (clear). */
  templates?: number;
}

export interface CacheOptions {
  cacheDir: string | undefined;
  shadowUrl: string | undefined;
}

export async function cacheList(options: CacheOptions): Promise<CacheResult> {
  const folder = cacheRoot(options.cacheDir);
  const listed = await listBaselines(folder);
  return {
    command: 'cache list',
    folder,
    baselines: listed.length,
    bytes: listed.reduce((sum, entry) => sum + entry.bytes, 0),
    ...(options.shadowUrl ? { templates: await countTemplates(options.shadowUrl) } : {}),
  };
}

export async function cacheClear(options: CacheOptions): Promise<CacheResult> {
  const folder = cacheRoot(options.cacheDir);
  const removed = await clearBaselines(folder);
  return {
    command: 'cache clear',
    folder,
    baselines: removed.entries,
    bytes: removed.bytes,
    ...(options.shadowUrl ? { templates: await clearTemplates(options.shadowUrl) } : {}),
  };
}
