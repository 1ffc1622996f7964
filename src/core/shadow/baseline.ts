import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyRolesAndSettings } from '../db/clone.js';
import { connect, disconnect } from '../db/connect.js';
import { serverBinaries } from '../db/embedded-binaries.js';
import { redact } from '../db/redact.js';
import type { ShadowDatabase, ShadowOptions } from '../db/shadow.js';
import { SupagateError } from '../errors.js';
import { fingerprintOf } from '../schema/fingerprint.js';
import { type IntrospectOptions, introspect } from '../schema/introspect.js';
import type { SchemaModel } from '../schema/model.js';
import {
  findBaseline,
  keepBaseline,
  keptModel,
  lastKeyFor,
  rememberKey,
  removeBaseline,
} from './baseline-store.js';
import {
  findTemplate,
  pruneTemplates,
  removeTemplate,
  templateComment,
  templateName,
} from './baseline-template.js';
import { catalogDigest } from './catalog-digest.js';

/*
 * A cached shadow baseline: production's schema as the clone restored it into the shadow, kept
 * under a key of everything that shapes it (baseline-key.ts), so that the next plan of the same
 * production schema starts from a copy of it instead of dumping and restoring again. The
 * embedded shadow keeps its stopped cluster in the cache folder (baseline-store.ts); a shadow
 * server keeps a template database (baseline-template.ts).
 *
 * Trust: a baseline is kept before any migration has run in it, so pull requests' SQL never
 * shapes a later plan. A started copy is used only when it shows it is the baseline as kept: an
 * embedded one by its catalogs' digest (catalog-digest.ts; its model, read when it was kept, is
 * the plan's "before"), a server's template by its schema model, read as the plan reads the
 * shadow anyway, having the fingerprint recorded when it was kept. A stale, damaged or
 * tampered baseline is removed and the shadow rebuilt from production. What the model does not
 * represent is trusted to where it is kept: the cache folder (yours, or the runner's cache in
 * the Action), or the shadow server, where nobody may connect to a template and only its owner
 * may change it.
 */

export interface BaselineOptions {
  /** The cache folder (baseline-store.ts cacheRoot). */
  root: string;
  /** The target's fingerprint: its last key is tried while `key` is still being computed. */
  target: string;
  key: Promise<string>;
  /** The target's last baseline, already being started (startEarly). */
  early?: EarlyStart;
  /** What the plan reads of the shadow (config.schemas). */
  scope: IntrospectOptions;
  /**
   * A shadow server (--shadow-url) keeps its baselines as template databases of its own
   * (baseline-template.ts) rather than in the cache folder; its settings come from production.
   */
  server?: { url: string; productionUrl: string };
}

/** A baseline under one key: what shadowFromBaseline and keepShadowAsBaseline work on. */
interface KeyedBaseline {
  root: string;
  key: string;
  scope: IntrospectOptions;
}

/** How the plan's shadow was prepared: from a kept baseline, or cloned (and kept), or cloned again after a baseline failed its check. */
export type BaselineUse = 'hit' | 'miss' | 'rebuilt';

export interface ShadowFromBaseline {
  shadow: ShadowDatabase;
  /** The shadow's model before any migration. */
  before: SchemaModel;
  /** The clone's warnings when the baseline was kept. */
  warnings: string[];
}

export type CreateShadow = (
  from?: Pick<ShadowOptions, 'baseline' | 'template' | 'signal'>,
) => Promise<ShadowDatabase>;

/** The baseline the target's last plan used, started on the guess that production is unchanged. */
interface Guess {
  key: string;
  started: ShadowFromBaseline | 'stale' | undefined;
}

/**
 * The target's last baseline, started before the plan has read anything, so that copying it
 * overlaps reading the files and production. startFromBaseline takes it over; a plan that ends
 * without a shadow (nothing pending, a file that does not parse) discards it, stopping its copy
 * half-way.
 */
export interface EarlyStart {
  take(): Promise<Guess | undefined>;
  /** Stops and removes it, unless taken. */
  discard(): Promise<void>;
}

export function startEarly(
  options: Pick<BaselineOptions, 'root' | 'target' | 'scope'>,
  create: CreateShadow,
): EarlyStart {
  const controller = new AbortController();
  const guessed = guess(options, create, controller.signal);
  guessed.catch(() => {});
  let taken = false;
  return {
    take: () => {
      taken = true;
      return guessed;
    },
    discard: async () => {
      if (taken) return;
      taken = true;
      controller.abort();
      const started = (await guessed.catch(() => undefined))?.started;
      if (typeof started === 'object') await started.shadow.dispose();
    },
  };
}

async function guess(
  options: Pick<BaselineOptions, 'root' | 'target' | 'scope'>,
  create: CreateShadow,
  signal?: AbortSignal,
): Promise<Guess | undefined> {
  const key = await lastKeyFor(options.root, options.target);
  if (!key) return undefined;
  return { key, started: await shadowFromBaseline({ ...options, key }, create, signal) };
}

/**
 * The shadow started from the kept baseline of `options.key`, if any. The baseline the target's
 * last plan used is started at once, while production is still being read for the key: when
 * the key turns out the same (production unchanged, the common case), its start cost nothing;
 * otherwise it is thrown away and the right one, if kept, is started.
 */
export async function startFromBaseline(
  options: BaselineOptions,
  create: CreateShadow,
): Promise<{ key: string | undefined; started: ShadowFromBaseline | 'stale' | undefined }> {
  if (options.server) {
    const key = await options.key.catch(() => undefined);
    if (key === undefined) return { key, started: undefined };
    return { key, started: await shadowFromTemplate(options.server, { ...options, key }, create) };
  }
  const early = options.early?.take() ?? guess(options, create);
  // Both settled, so that neither is left running unawaited when the other fails.
  const [key, guessed] = await Promise.allSettled([options.key, early]);
  const started = guessed.status === 'fulfilled' ? guessed.value?.started : undefined;
  const earlyShadow = typeof started === 'object' ? started : undefined;
  if (key.status === 'rejected') {
    // The cache only saves time: without a key (production's catalogs could not all be read),
    // the plan restores production as without it, and keeps nothing.
    await earlyShadow?.shadow.dispose();
    return { key: undefined, started: undefined };
  }
  if (guessed.status === 'rejected') throw guessed.reason;
  if (guessed.value?.key === key.value) return { key: key.value, started };
  await earlyShadow?.shadow.dispose();
  const exact = await shadowFromBaseline({ ...options, key: key.value }, create);
  if (typeof exact === 'object') await rememberKey(options.root, options.target, key.value);
  return { key: key.value, started: exact };
}

/**
 * The shadow started from the baseline kept under the key, checked; `stale` when one was kept
 * but failed to start or to check out (it is removed), undefined when there is none.
 */
async function shadowFromBaseline(
  options: KeyedBaseline,
  create: CreateShadow,
  signal?: AbortSignal,
): Promise<ShadowFromBaseline | 'stale' | undefined> {
  const cached = await findBaseline(options.root, options.key);
  if (!cached) return undefined;
  const { record } = cached;
  let shadow: ShadowDatabase | undefined;
  try {
    shadow = await create({
      baseline: {
        dataDirectory: cached.dataDirectory,
        password: record.password,
        database: record.database,
      },
      ...(signal ? { signal } : {}),
    });
    if (shadow.source !== 'embedded') {
      // A shadow server was found after all (a running `supabase start`): baselines are the embedded one's.
      await shadow.dispose();
      return undefined;
    }
    const [digest, before] = await Promise.all([
      catalogDigest(shadow.adminUrl),
      keptModel(options.root, record),
    ]);
    if (before && digest === record.catalogDigest) return { shadow, before, warnings: record.warnings };
  } catch (error) {
    // A shadow server that refuses to run migrations safely is not the baseline's fault, nor
    // is a start given up.
    if (error instanceof SupagateError && error.code === 'SHADOW_UNSAFE') throw error;
    if (signal?.aborted) return undefined;
  }
  await shadow?.dispose();
  await removeBaseline(options.root, options.key);
  return 'stale';
}

/** The shadow created from the server's template for the key, checked (see shadowFromBaseline). */
async function shadowFromTemplate(
  server: NonNullable<BaselineOptions['server']>,
  options: KeyedBaseline,
  create: CreateShadow,
): Promise<ShadowFromBaseline | 'stale' | undefined> {
  const record = await findTemplate(server.url, options.key);
  if (!record) return undefined;
  let shadow: ShadowDatabase | undefined;
  try {
    shadow = await create({ template: templateName(options.key) });
    await copyRolesAndSettings(server.productionUrl, shadow.adminUrl);
    const before = await readShadowModel(shadow, options.scope);
    if (fingerprintOf(before) === record.fingerprint) return { shadow, before, warnings: record.warnings };
  } catch (error) {
    if (error instanceof SupagateError && error.code === 'SHADOW_UNSAFE') throw error;
  }
  await shadow?.dispose();
  await removeTemplate(server.url, options.key);
  return 'stale';
}

/**
 * Keeps a freshly cloned shadow as the baseline for the key (the embedded one's cluster in the
 * cache folder, a server's database as a template there), before any migration runs in it;
 * returns its model as read then (the plan's "before"). Failing to keep it is a note, not a
 * failure of the plan.
 */
export async function keepShadowAsBaseline(
  shadow: ShadowDatabase,
  options: KeyedBaseline & Pick<BaselineOptions, 'target' | 'server'>,
  warnings: string[],
): Promise<{ before: SchemaModel; problem?: string }> {
  const before = await readShadowModel(shadow, options.scope);
  if (shadow.keepAsTemplate && options.server) {
    const record = {
      key: options.key,
      fingerprint: fingerprintOf(before),
      warnings,
      createdAt: new Date().toISOString(),
    };
    try {
      await shadow.keepAsTemplate(templateName(options.key), templateComment(record));
      await pruneTemplates(options.server.url);
      return { before };
    } catch (error) {
      // Kept by another plan at the same moment: as good.
      if ((error as { code?: string }).code === '42P04') return { before };
      return { before, problem: notKept(error) };
    }
  }
  const keep = shadow.keepAsBaseline;
  if (!keep) return { before };
  try {
    const digest = await catalogDigest(shadow.adminUrl);
    const record = { key: options.key, catalogDigest: digest, warnings };
    await keepBaseline(options.root, record, before, keep);
    await rememberKey(options.root, options.target, options.key);
    return { before };
  } catch (error) {
    // The cache only saves time: this plan goes on without it.
    return { before, problem: notKept(error) };
  }
}

/** The note a plan carries (into the PR comment too) when its shadow could not be kept. */
function notKept(error: unknown): string {
  return `The shadow could not be kept for the next plan: ${redact(String((error as Error)?.message ?? error))}`;
}

/** The shadow's model as the migrations' role reads it (as the plan reads it). */
export async function readShadowModel(
  shadow: ShadowDatabase,
  scope: IntrospectOptions,
): Promise<SchemaModel> {
  const connection = await connect(shadow.url, { applicationName: 'supagate plan (shadow)' });
  try {
    return await introspect(connection.client, scope);
  } finally {
    await disconnect(connection);
  }
}

let embeddedVersion: Promise<string> | undefined;

/** What the embedded shadow server is: its `postgres --version`, read once per process. */
export function embeddedServerIdentity(): Promise<string> {
  embeddedVersion ??= serverBinaries().then(async ({ postgres }) => {
    const { stdout } = await promisify(execFile)(postgres, ['--version']);
    return `embedded ${stdout.trim()}`;
  });
  return embeddedVersion;
}
