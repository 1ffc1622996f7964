import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { redact, registerSecret } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import {
  type BucketInfo,
  type Digest,
  messageOf,
  type ObjectInfo,
  retrying,
  type Settings,
  Side,
} from './storage-api.js';

/** One project's Storage API: its URL and service key. */
export interface StorageProject {
  /** Project URL, `https://<ref>.supabase.co` (not the database URL). */
  url: string;
  /** service_role (or `sb_secret_…`) key: anything less cannot see private buckets. */
  serviceKey: string;
}

export interface StorageCopyOptions {
  from: StorageProject;
  to: StorageProject;
  /** Buckets to copy, by id. Default (or empty): every bucket of the source. */
  buckets?: string[];
  /** Objects transferred at once. Default 4. */
  concurrency?: number;
  onProgress?: (event: StorageCopyProgress) => void;
  /** Entries asked for per list request. Default 1000. */
  pageSize?: number;
  /** Retries after a 5xx, 408, 429 or network error. Default 3. */
  retries?: number;
  /** First delay between retries, doubled each time. Default 500 ms. */
  retryDelayMs?: number;
}

export type StorageCopyProgress =
  | { phase: 'bucket'; bucket: string; created: boolean; conflict: boolean }
  | { phase: 'list'; bucket: string; objects: number; bytes: number }
  | {
      phase: 'object';
      bucket: string;
      name: string;
      action: 'copied' | 'skipped' | 'failed';
      bytes: number;
      done: number;
      total: number;
    }
  | { phase: 'verify'; bucket: string; ok: boolean };

export interface StorageCopyBucketResult {
  id: string;
  /** The source bucket's public flag. */
  public: boolean;
  /** Created on the target by this run. */
  created: boolean;
  /** Objects and their bytes on the source. */
  objects: number;
  bytes: number;
  copied: number;
  /** Already identical on the target (same size, content type and SHA-256). */
  skipped: number;
  /** What differs between the two sides (or could not be copied); empty when the copy is exact. */
  mismatches: string[];
  /** Bucket settings that differ on an existing target bucket (the copy goes on). */
  warnings: string[];
}

export interface StorageCopyResult {
  buckets: StorageCopyBucketResult[];
  /** Every bucket copied and verified without a mismatch. */
  ok: boolean;
}

const MAX_MISMATCHES = 100;

/**
 * Copies Supabase Storage (the files: buckets and their objects) from one project to another,
 * through the Storage REST API with each project's service_role key, and checks the result.
 *
 * 1. Buckets: every source bucket (or those asked for) is created on the target with the same
 *    settings (public, file_size_limit, allowed_mime_types). An existing target bucket is used
 *    as it is; when its public flag differs from the source's, nothing is copied into it and the
 *    bucket reports a mismatch (making a private bucket public, or the reverse, is a decision).
 *    Other settings that differ are reported as warnings.
 * 2. Objects: each bucket is listed folder by folder (Storage lists one level at a time; folders
 *    come back without an id), every page (limit/offset). Each object is streamed from the
 *    source into an upload to the target (upsert, same content type and cache-control), hashed
 *    (SHA-256) on the way: one object at a time per worker, `concurrency` workers, nothing
 *    buffered whole.
 * 3. Skip rule: an object is left alone when the target already has it with the same size and
 *    content type (from the listings) and the same SHA-256: both copies are downloaded and
 *    hashed to be sure (a listing's size or ETag is not proof of equal content; ETags differ
 *    between storage backends and multipart uploads). Empty objects of size 0 on both sides
 *    need no download. Objects whose size or type differ are copied without hashing.
 * 4. Verification, per bucket, after copying: both sides are listed again and must have the
 *    same object count, total bytes, names, sizes and content types; every object copied in
 *    this run is downloaded again from the target and its SHA-256 compared with the one
 *    computed from the source stream (not a trust of the upload's answer). Skipped objects were
 *    proven equal by their own download and hash in this run.
 *
 * Requests are retried after a 5xx, 408, 429 or network error (`retries`, doubling back-off);
 * the transfer of an object restarts from a fresh download. 401/403 stops the copy at once
 * with STORAGE_COPY_FORBIDDEN (the key must be a service_role key). Keys are registered as
 * secrets and only ever sent as the Authorization and apikey headers.
 *
 * Not copied here: object owners (uploads with a service key have none, so policies on
 * `owner_id = auth.uid()` need them) and custom user metadata; `supagate copy` sets both from
 * the source database's rows afterwards (copyObjectAttributes). Nothing is deleted: objects
 * only the target has stay there, and the verification reports them.
 */
export async function copyStorageObjects(options: StorageCopyOptions): Promise<StorageCopyResult> {
  registerSecret(options.from?.serviceKey);
  registerSecret(options.to?.serviceKey);
  const settings: Settings = {
    retries: options.retries ?? 3,
    retryDelayMs: options.retryDelayMs ?? 500,
    pageSize: options.pageSize ?? 1000,
  };
  const concurrency = options.concurrency ?? 4;
  checkNumber('concurrency', concurrency, 1);
  checkNumber('pageSize', settings.pageSize, 1);
  checkNumber('retries', settings.retries, 0);
  checkNumber('retryDelayMs', settings.retryDelayMs, 0);
  const source = new Side('source', options.from, settings);
  const target = new Side('target', options.to, settings);
  if (source.address === target.address) {
    throw new SupagateError(
      'CONFIG_INVALID',
      `The source and the target are the same project (${source.host})`,
      {
        hint: 'Pass the URL of the project to copy from and the URL of another project to copy into.',
      },
    );
  }
  const progress = (event: StorageCopyProgress) => {
    try {
      options.onProgress?.(event);
    } catch {
      // A progress reporter does not stop a copy.
    }
  };

  const sourceBuckets = await source.listBuckets();
  const wanted = options.buckets?.length ? [...new Set(options.buckets)] : undefined;
  if (wanted) {
    const missing = wanted.filter((id) => !sourceBuckets.some((bucket) => bucket.id === id));
    if (missing.length > 0) {
      throw new SupagateError(
        'CONFIG_INVALID',
        `The source project (${source.host}) has no bucket ${missing.map((id) => `"${id}"`).join(', ')}`,
        {
          hint: `Its buckets: ${sourceBuckets.map((bucket) => bucket.id).join(', ') || 'none'}.`,
          details: { missing, available: sourceBuckets.map((bucket) => bucket.id) },
        },
      );
    }
  }
  const selected = sourceBuckets
    .filter((bucket) => !wanted || wanted.includes(bucket.id))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const targetBuckets = new Map((await target.listBuckets()).map((bucket) => [bucket.id, bucket]));

  const results: StorageCopyBucketResult[] = [];
  for (const bucket of selected) {
    results.push(
      await copyBucket(bucket, targetBuckets.get(bucket.id), { source, target, concurrency, progress }),
    );
  }
  return { buckets: results, ok: results.every((bucket) => bucket.mismatches.length === 0) };
}

interface Context {
  source: Side;
  target: Side;
  concurrency: number;
  progress: (event: StorageCopyProgress) => void;
}

async function copyBucket(
  bucket: BucketInfo,
  existing: BucketInfo | undefined,
  { source, target, concurrency, progress }: Context,
): Promise<StorageCopyBucketResult> {
  const result: StorageCopyBucketResult = {
    id: bucket.id,
    public: bucket.public,
    created: false,
    objects: 0,
    bytes: 0,
    copied: 0,
    skipped: 0,
    mismatches: [],
    warnings: [],
  };
  const mismatches = new MismatchList(result.mismatches);

  let onTarget = existing;
  if (!onTarget) {
    result.created = await target.createBucket(bucket);
    onTarget = await target.getBucket(bucket.id);
  }
  const conflict = onTarget.public !== bucket.public;
  if (conflict) {
    mismatches.add(
      `bucket "${bucket.id}" is ${visibility(bucket.public)} on the source but ${visibility(onTarget.public)} on the target: nothing copied into it (change its Public setting on the target if that is intended, then copy again)`,
    );
  } else if (!result.created) {
    result.warnings.push(...settingDifferences(bucket, onTarget));
  }
  progress({ phase: 'bucket', bucket: bucket.id, created: result.created, conflict });

  const sourceObjects = await source.listObjects(bucket.id);
  result.objects = sourceObjects.size;
  result.bytes = totalBytes(sourceObjects);
  progress({ phase: 'list', bucket: bucket.id, objects: result.objects, bytes: result.bytes });
  if (conflict) {
    mismatches.finish();
    return result;
  }

  const targetObjects = result.created ? new Map<string, ObjectInfo>() : await target.listObjects(bucket.id);
  /** SHA-256 and size of each source object, as streamed (copied) or hashed (skipped). */
  const copiedDigests = new Map<string, Digest>();
  const items = [...sourceObjects.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  let done = 0;
  await eachLimited(items, concurrency, async (item) => {
    let action: 'copied' | 'skipped' | 'failed';
    let bytes = 0;
    try {
      if (await identical(source, target, bucket.id, item, targetObjects.get(item.name))) {
        action = 'skipped';
        result.skipped++;
        bytes = item.size ?? 0;
      } else {
        const digest = await transfer(source, target, bucket.id, item);
        copiedDigests.set(item.name, digest);
        action = 'copied';
        result.copied++;
        bytes = digest.size;
      }
    } catch (error) {
      if (isForbidden(error)) throw error;
      mismatches.add(`${item.name}: not copied: ${messageOf(error)}`);
      action = 'failed';
    }
    done++;
    progress({
      phase: 'object',
      bucket: bucket.id,
      name: item.name,
      action,
      bytes,
      done,
      total: items.length,
    });
  });

  await verifyBucket(bucket.id, copiedDigests, mismatches, { source, target, concurrency, progress });
  mismatches.finish();
  progress({ phase: 'verify', bucket: bucket.id, ok: result.mismatches.length === 0 });
  return result;
}

/** The skip rule: same size and content type in the listings, then the same SHA-256 downloaded from both. */
async function identical(
  source: Side,
  target: Side,
  bucket: string,
  item: ObjectInfo,
  onTarget: ObjectInfo | undefined,
): Promise<boolean> {
  if (!onTarget || item.size === undefined || onTarget.size !== item.size) return false;
  if (onTarget.mimetype !== item.mimetype) return false;
  if (item.size === 0) return true;
  const [ours, theirs] = await Promise.all([
    source.digest(bucket, item.name),
    target.digest(bucket, item.name),
  ]);
  return ours.sha256 === theirs.sha256 && ours.size === theirs.size;
}

/** Streams one object from the source into an upload to the target, hashing it on the way. */
async function transfer(source: Side, target: Side, bucket: string, item: ObjectInfo): Promise<Digest> {
  return retrying(source.settings, async () => {
    const download = await source.openDownload(bucket, item.name);
    const hash = createHash('sha256');
    let size = 0;
    async function* hashed(): AsyncGenerator<Buffer> {
      for await (const chunk of download as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    }
    const body = Readable.from(hashed(), { objectMode: false });
    try {
      await target.upload(bucket, item.name, body, item);
    } finally {
      body.destroy();
      download.destroy();
    }
    return { sha256: hash.digest('hex'), size };
  });
}

async function verifyBucket(
  bucket: string,
  copiedDigests: Map<string, Digest>,
  mismatches: MismatchList,
  { source, target, concurrency }: Context,
): Promise<void> {
  const [onSource, onTarget] = await Promise.all([source.listObjects(bucket), target.listObjects(bucket)]);
  const sourceBytes = totalBytes(onSource);
  const targetBytes = totalBytes(onTarget);
  if (onSource.size !== onTarget.size || sourceBytes !== targetBytes) {
    mismatches.add(
      `bucket "${bucket}": ${onSource.size} objects (${sourceBytes} bytes) on the source, ${onTarget.size} objects (${targetBytes} bytes) on the target`,
    );
  }
  for (const [name, item] of onSource) {
    const other = onTarget.get(name);
    if (!other) mismatches.add(`${name}: missing on the target`);
    else if (other.size !== item.size) {
      mismatches.add(`${name}: ${item.size ?? '?'} bytes on the source, ${other.size ?? '?'} on the target`);
    } else if (other.mimetype !== item.mimetype) {
      mismatches.add(
        `${name}: content type ${item.mimetype ?? 'none'} on the source, ${other.mimetype ?? 'none'} on the target`,
      );
    }
  }
  for (const name of onTarget.keys()) {
    if (!onSource.has(name)) mismatches.add(`${name}: on the target only`);
  }
  const copied = [...copiedDigests.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  await eachLimited(copied, concurrency, async ([name, expected]) => {
    try {
      const actual = await target.digest(bucket, name);
      if (actual.sha256 !== expected.sha256 || actual.size !== expected.size) {
        mismatches.add(
          `${name}: the target's copy differs from the source (SHA-256 ${short(actual.sha256)}…, ${actual.size} bytes; expected ${short(expected.sha256)}…, ${expected.size} bytes)`,
        );
      }
    } catch (error) {
      if (isForbidden(error)) throw error;
      mismatches.add(`${name}: cannot be read back from the target: ${messageOf(error)}`);
    }
  });
}

/** Runs `work` on every item, at most `limit` at once; the first error stops new work and is rethrown. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/** Mismatch messages, at most MAX_MISMATCHES of them, then a count of the rest. */
class MismatchList {
  #more = 0;
  constructor(readonly list: string[]) {}

  add(text: string): void {
    if (this.list.length < MAX_MISMATCHES) this.list.push(redact(text));
    else this.#more++;
  }

  finish(): void {
    if (this.#more > 0) this.list.push(`… and ${this.#more} more`);
    this.#more = 0;
  }
}

function settingDifferences(source: BucketInfo, target: BucketInfo): string[] {
  const warnings: string[] = [];
  if (String(source.fileSizeLimit ?? 'none') !== String(target.fileSizeLimit ?? 'none')) {
    warnings.push(
      `bucket "${source.id}": file size limit ${source.fileSizeLimit ?? 'none'} on the source, ${target.fileSizeLimit ?? 'none'} on the target`,
    );
  }
  const types = (list: string[] | null) => (list ? [...list].sort().join(', ') : 'any');
  if (types(source.allowedMimeTypes) !== types(target.allowedMimeTypes)) {
    warnings.push(
      `bucket "${source.id}": allowed MIME types ${types(source.allowedMimeTypes)} on the source, ${types(target.allowedMimeTypes)} on the target`,
    );
  }
  return warnings;
}

/** The role claim of a JWT key, `service_role` for a secret key, `publishable` for a publishable key; undefined when unknown. */
function totalBytes(objects: Map<string, ObjectInfo>): number {
  let sum = 0;
  for (const item of objects.values()) sum += item.size ?? 0;
  return sum;
}

function visibility(isPublic: boolean): string {
  return isPublic ? 'public' : 'private';
}

function short(sha256: string): string {
  return sha256.slice(0, 12);
}

function isForbidden(error: unknown): boolean {
  return error instanceof SupagateError && error.code === 'STORAGE_COPY_FORBIDDEN';
}

function checkNumber(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new SupagateError('CONFIG_INVALID', `Invalid ${name} ${value} for the Storage copy`, {
      hint: `Use a whole number, at least ${min}.`,
      details: { setting: name },
    });
  }
}
