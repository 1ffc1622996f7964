import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { removeOnInterrupt } from '../interrupt.js';
import type { SchemaModel } from '../schema/model.js';

/*
 * The embedded shadow's cached baselines: each a stopped cluster's data directory holding
 * production's schema as the clone restored it, before any migration ran, the shadow's schema
 * model as read then, and a record of what it is. One folder per key (baseline-key.ts) under
 * `<cache>/shadow-baselines/`, written under a temporary name and renamed into place, so a
 * reader never sees half of one. The least
 * recently used go first once there are more than MAX_ENTRIES or they take more than
 * MAX_BYTES; `supagate cache clear` removes them all.
 */

export interface BaselineRecord {
  formatVersion: 2;
  key: string;
  /** The shadow database inside the cluster. */
  database: string;
  /** The cluster's superuser and password (a server on 127.0.0.1 that only this run starts). */
  superuser: string;
  password: string;
  /** catalogDigest of the shadow database when kept: a started copy must have the same. */
  catalogDigest: string;
  /** sha256 of the kept model's file. */
  modelSha256: string;
  /** The clone's warnings, reported again by every plan that starts from it. */
  warnings: string[];
  createdAt: string;
  bytes: number;
}

export interface CachedBaseline {
  record: BaselineRecord;
  /** The data directory to copy (never to start in place). */
  dataDirectory: string;
}

const FOLDER = 'shadow-baselines';
const RECORD = 'baseline.json';
const DATA = 'data';
const MODEL = 'model.json';
/** Per target (baseline-key.ts targetFingerprint), the last key used: a dot folder, not a baseline. */
const TARGETS = '.targets';
export const MAX_ENTRIES = 3;
export const MAX_BYTES = 2 * 1024 ** 3;

/** `cacheDir` (--cache-dir), else $XDG_CACHE_HOME/supagate, else ~/.cache/supagate. */
export function cacheRoot(cacheDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (cacheDir) return cacheDir;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'supagate');
  return join(homedir(), '.cache', 'supagate');
}

function baselinesDir(root: string): string {
  return join(root, FOLDER);
}

/** The baseline kept under `key`, or undefined (none, or one that cannot be read). */
export async function findBaseline(root: string, key: string): Promise<CachedBaseline | undefined> {
  const dir = join(baselinesDir(root), key);
  try {
    const record = JSON.parse(await readFile(join(dir, RECORD), 'utf8')) as BaselineRecord;
    if (record.formatVersion !== 2 || record.key !== key) return undefined;
    const now = new Date();
    await utimes(join(dir, RECORD), now, now);
    return { record, dataDirectory: join(dir, DATA) };
  } catch {
    return undefined;
  }
}

/** The schema model kept with the baseline, or undefined when it cannot be read or is not the one recorded. */
export async function keptModel(root: string, record: BaselineRecord): Promise<SchemaModel | undefined> {
  try {
    const bytes = await readFile(join(baselinesDir(root), record.key, MODEL));
    if (sha256(bytes) !== record.modelSha256) return undefined;
    return JSON.parse(bytes.toString('utf8')) as SchemaModel;
  } catch {
    return undefined;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Keeps a baseline: `write` fills the data directory it is given (which does not exist yet) and
 * says how to start it; then the model and the record are written and the folder renamed into
 * place. A baseline already there under the same key (another run's) is kept and this one
 * dropped.
 */
export async function keepBaseline(
  root: string,
  record: Pick<BaselineRecord, 'key' | 'catalogDigest' | 'warnings'>,
  model: SchemaModel,
  write: (dataDirectory: string) => Promise<Pick<BaselineRecord, 'database' | 'superuser' | 'password'>>,
): Promise<void> {
  const dir = baselinesDir(root);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const staging = join(dir, `.staging-${randomBytes(6).toString('hex')}`);
  await mkdir(staging, { mode: 0o700 });
  const forgetInterrupt = removeOnInterrupt(staging, 'the shadow baseline being kept');
  try {
    const server = await write(join(staging, DATA));
    const bytes = await sizeOf(join(staging, DATA));
    const modelBytes = Buffer.from(JSON.stringify(model), 'utf8');
    await writeFile(join(staging, MODEL), modelBytes, { mode: 0o600 });
    const full: BaselineRecord = {
      formatVersion: 2,
      ...record,
      modelSha256: sha256(modelBytes),
      ...server,
      createdAt: new Date().toISOString(),
      bytes,
    };
    await writeFile(join(staging, RECORD), `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
    await rename(staging, join(dir, record.key)).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
    forgetInterrupt();
  }
  await pruneBaselines(root);
}

/**
 * The key of the baseline a target's last plan used or kept: the next plan of that target starts
 * a copy of it while production is still being read, and keeps it if the key is the same.
 */
export async function lastKeyFor(root: string, target: string): Promise<string | undefined> {
  const key = await readFile(join(baselinesDir(root), TARGETS, target), 'utf8').catch(() => '');
  return /^[0-9a-f]{64}$/.test(key) ? key : undefined;
}

export async function rememberKey(root: string, target: string, key: string): Promise<void> {
  const dir = join(baselinesDir(root), TARGETS);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const staging = join(dir, `.${target}-${randomBytes(4).toString('hex')}`);
  await writeFile(staging, key, { mode: 0o600 });
  await rename(staging, join(dir, target));
}

export async function removeBaseline(root: string, key: string): Promise<void> {
  await rm(join(baselinesDir(root), key), { recursive: true, force: true });
}

/** Removes the least recently used baselines beyond MAX_ENTRIES or MAX_BYTES. */
export async function pruneBaselines(
  root: string,
  limits: { entries: number; bytes: number } = { entries: MAX_ENTRIES, bytes: MAX_BYTES },
): Promise<void> {
  const kept = await listBaselines(root);
  kept.sort((a, b) => b.usedAt - a.usedAt);
  let bytes = 0;
  for (const [i, entry] of kept.entries()) {
    bytes += entry.bytes;
    if (i >= limits.entries || bytes > limits.bytes) await removeBaseline(root, entry.key);
  }
}

/** Removes every baseline (and anything half-written); says how many and how much. */
export async function clearBaselines(root: string): Promise<{ entries: number; bytes: number }> {
  const kept = await listBaselines(root);
  await rm(baselinesDir(root), { recursive: true, force: true });
  return { entries: kept.length, bytes: kept.reduce((sum, entry) => sum + entry.bytes, 0) };
}

interface ListedBaseline {
  key: string;
  bytes: number;
  usedAt: number;
}

export async function listBaselines(root: string): Promise<ListedBaseline[]> {
  const names = await readdir(baselinesDir(root)).catch(() => [] as string[]);
  const listed: ListedBaseline[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    try {
      const path = join(baselinesDir(root), name, RECORD);
      const record = JSON.parse(await readFile(path, 'utf8')) as BaselineRecord;
      listed.push({ key: name, bytes: record.bytes, usedAt: (await stat(path)).mtimeMs });
    } catch {
      // Unreadable: the least recently used of all.
      listed.push({ key: name, bytes: 0, usedAt: 0 });
    }
  }
  return listed;
}

async function sizeOf(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}
