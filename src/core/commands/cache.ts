import { cacheRoot, clearBaselines, listBaselines } from '../shadow/baseline-store.js';

/** `supagate cache list` / `cache clear`: the shadow baselines kept for later plans (shadow/baseline.ts). */
export interface CacheResult {
  command: 'cache list' | 'cache clear';
  /** The cache folder. */
  folder: string;
  /** Baselines kept (list) or removed (clear). */
  baselines: number;
  bytes: number;
}

export async function cacheList(cacheDir: string | undefined): Promise<CacheResult> {
  const folder = cacheRoot(cacheDir);
  const listed = await listBaselines(folder);
  return {
    command: 'cache list',
    folder,
    baselines: listed.length,
    bytes: listed.reduce((sum, entry) => sum + entry.bytes, 0),
  };
}

export async function cacheClear(cacheDir: string | undefined): Promise<CacheResult> {
  const folder = cacheRoot(cacheDir);
  const removed = await clearBaselines(folder);
  return { command: 'cache clear', folder, baselines: removed.entries, bytes: removed.bytes };
}
