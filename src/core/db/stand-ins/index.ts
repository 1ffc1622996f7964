import type { ExtensionFile } from '../embedded-installation.js';
import { http } from './http.js';
import { pgCron } from './pg-cron.js';
import { pgGraphql } from './pg-graphql.js';
import { pgNet } from './pg-net.js';
import { pgjwt } from './pgjwt.js';
import { pgsodium } from './pgsodium.js';
import { extensionFiles, type StandIn } from './stand-in.js';
import { vault } from './vault.js';
import { vector } from './vector.js';
import { wrappers } from './wrappers.js';

export { STAND_IN_MARK, type StandIn } from './stand-in.js';

/** The platform extensions the embedded server stands in for (see stand-in.ts). */
export const STAND_INS: readonly StandIn[] = [
  vector,
  pgCron,
  pgNet,
  vault,
  pgsodium,
  pgGraphql,
  pgjwt,
  http,
  wrappers,
];

export function standInFiles(): ExtensionFile[] {
  return STAND_INS.flatMap(extensionFiles);
}

export function standInNamed(name: string): StandIn | undefined {
  return STAND_INS.find((standIn) => standIn.name === name);
}
