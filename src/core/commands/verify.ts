import type { SupagateConfig } from '../config.js';
import { describeTarget } from '../db/redact.js';
import { checkProduction, type ProductionCheck } from '../verify/verify.js';
import { requireDbUrl } from './load.js';
import { verifyConfigOf, withProjectFile } from './verification.js';

/**
 * verify: production's access as it is now, without an apply: every API table has row level
 * security, each probe identity sees what supagate.yml expects, the project's verify scripts
 * pass. For a schedule, or after changes made outside supagate. Only reads.
 */
export interface VerifyResult extends ProductionCheck {
  command: 'verify';
  target: string;
  durationMs: number;
}

export async function verify(userConfig: SupagateConfig): Promise<VerifyResult> {
  const started = performance.now();
  const url = requireDbUrl(userConfig);
  const { config, file } = await withProjectFile(userConfig);
  const check = await checkProduction(url, verifyConfigOf(config, file));
  return {
    command: 'verify',
    target: describeTarget(url).label,
    ...check,
    durationMs: Math.round(performance.now() - started),
  };
}
