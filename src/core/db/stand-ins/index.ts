import type { ExtensionFile } from '../embedded-installation.js';
import { pgCron } from './pg-cron.js';
import { extensionFiles, type StandIn } from './stand-in.js';
import { vector } from './vector.js';

export { STAND_IN_MARK, type StandIn } from './stand-in.js';

/** The platform extensions the embedded server stands in for (see stand-in.ts). */
export const STAND_INS: readonly StandIn[] = [vector, pgCron];

export function standInFiles(): ExtensionFile[] {
  return STAND_INS.flatMap(extensionFiles);
}

export function standInNamed(name: string): StandIn | undefined {
  return STAND_INS.find((standIn) => standIn.name === name);
}
