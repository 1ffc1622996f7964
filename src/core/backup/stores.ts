import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { redact, registerSecret } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { removeOnInterrupt } from '../interrupt.js';
import { streamToNewFile } from '../new-file.js';
import { withRetries } from '../retry.js';
import { httpStatusOf, storageApiClient } from './supabase-client.js';

/**
 * Where backups live, off the runner: a folder, a private Supabase Storage bucket, or GitHub
 * Actions artifacts. A store holds opaque files under flat keys (`<id>.dump.enc`,
 * `<id>.manifest.json`); what they mean is backup.ts's business.
 *
 * Every store is all-or-nothing per key: `put` either leaves the complete file under the key
 * or nothing (a failed or cancelled input stream leaves no partial file), and `list` shows
 * only complete files.
 */
export interface BackupStore {
  /** `directory`, `supabase-storage`, `github-artifact`. */
  readonly kind: string;
  /** Backups must be encrypted before they reach this store (checked before pg_dump runs). */
  readonly requiresEncryption?: boolean;
  /** Stores the stream under `key`; rejects, leaving nothing, when the stream fails. */
  put(key: string, stream: Readable): Promise<{ location: string }>;
  /** The file under `key`; BACKUP_NOT_FOUND when there is none. */
  get(key: string): Promise<Readable>;
  /** Keys of complete files, sorted. */
  list(): Promise<string[]>;
  /** Removes the file under `key`; nothing when there is none. */
  remove(key: string): Promise<void>;
  /** Size in bytes of the file under `key`, asked without reading it (see stored-size.ts). */
  size?(key: string): Promise<number>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Keys are flat file names: no folders, no dot files, nothing a path could escape with. */
export function assertStoreKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) {
    throw new SupagateError('INTERNAL', `Invalid backup store key "${key}"`, {
      hint: 'Keys are file names of letters, digits, ".", "_" and "-".',
    });
  }
}

/**
 * A store that takes only encrypted backups (GitHub artifacts) needs a key: refused before
 * anything runs, naming what to set.
 */
export function assertKeyForStore(store: BackupStore, hasKey: boolean): void {
  if (hasKey || !store.requiresEncryption) return;
  throw new SupagateError(
    'BACKUP_UNENCRYPTED_ARTIFACT',
    `The ${store.kind} backup store takes only encrypted backups, and no encryption key is set`,
    {
      hint: "Set the Action's backup-key input ($SUPAGATE_BACKUP_KEY for the library and CLI) from a secret: anyone with read access to the repository can download artifacts. allow-unencrypted-artifacts: true only for repositories whose readers may see production data. Nothing was changed.",
      details: { setting: 'backup-key' },
    },
  );
}

function notFound(kind: string, key: string): SupagateError {
  return new SupagateError('BACKUP_NOT_FOUND', `No backup file "${key}" in the ${kind} store`, {
    hint: 'List the backups that exist with listBackups (or `supagate backups`).',
    details: { key, store: kind },
  });
}

/* ------------------------------------------------------------------------------------------ */
/* Directory                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/**
 * A local or mounted folder. Writes go to a hidden temporary name, are fsynced, then renamed:
 * a crash or a failed dump never leaves a partial file under a backup's key.
 */
export class DirectoryStore implements BackupStore {
  readonly kind = 'directory';
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async put(key: string, stream: Readable): Promise<{ location: string }> {
    assertStoreKey(key);
    const final = join(this.dir, key);
    await mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      stream.destroy();
      throw writeFailed(final, error);
    });
    const temporary = join(this.dir, `.${key}.${randomBytes(6).toString('hex')}.tmp`);
    const forgetInterrupt = removeOnInterrupt(temporary, 'a partial backup file');
    try {
      await streamToNewFile(stream, temporary);
      const handle = await open(temporary, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, final);
    } catch (error) {
      stream.destroy();
      await rm(temporary, { force: true });
      throw writeFailed(final, error);
    } finally {
      forgetInterrupt();
    }
    return { location: final };
  }

  async get(key: string): Promise<Readable> {
    assertStoreKey(key);
    const path = join(this.dir, key);
    const found = await stat(path).catch(() => undefined);
    if (!found?.isFile()) throw notFound(this.kind, key);
    return createReadStream(path);
  }

  async list(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    return entries
      .filter((entry) => entry.isFile() && KEY.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  }

  async remove(key: string): Promise<void> {
    assertStoreKey(key);
    await rm(join(this.dir, key), { force: true });
  }

  async size(key: string): Promise<number> {
    assertStoreKey(key);
    const found = await stat(join(this.dir, key)).catch(() => undefined);
    if (!found?.isFile()) throw notFound(this.kind, key);
    return found.size;
  }
}

const WRITE_FAILURES: Record<string, [string, string]> = {
  ENOSPC: ['no space left on the device', 'Free space there, or point --backup-dir at a disk with room.'],
  EDQUOT: ['the disk quota is exhausted', 'Free space there, or point --backup-dir at a disk with room.'],
  EACCES: ['permission denied', 'Let the user running supagate write there, or use another --backup-dir.'],
  EPERM: [
    'operation not permitted',
    'Let the user running supagate write there, or use another --backup-dir.',
  ],
  EROFS: ['the file system is read-only', 'Use a --backup-dir on a writable disk.'],
  ENOTDIR: ['a part of the path is a file, not a folder', 'Use a --backup-dir that is a folder.'],
  // What Node's recursive mkdir reports on a read-only file system, too.
  ENOENT: ['its folder is missing and could not be created', 'Use a --backup-dir on a writable disk.'],
};

/** A file system error while writing `path`: BACKUP_STORE_FAILED naming it (other errors pass through). */
function writeFailed(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  const known = code ? WRITE_FAILURES[code] : undefined;
  if (!known) return error;
  return new SupagateError(
    'BACKUP_STORE_FAILED',
    `Could not write the backup file ${path}: ${known[0]} (${code})`,
    {
      hint: `${known[1]} The partial file was removed; nothing was changed.`,
      details: { path, errno: code },
      cause: error,
    },
  );
}

/* ------------------------------------------------------------------------------------------ */
/* Supabase Storage                                                                            */
/* ------------------------------------------------------------------------------------------ */

export interface SupabaseStorageStoreOptions {
  /** Project URL, `https://<ref>.supabase.co` (not the database URL). */
  url: string;
  /** service_role key: Storage's RLS would hide a private bucket from anything less. Sent only as a header. */
  serviceKey: string;
  /** A private bucket (a public one is refused). */
  bucket: string;
  /** Folder inside the bucket. Default `supagate-backups`. */
  prefix?: string;
  /** Size of each uploaded part. Default 32 MiB: under the 50 MB per-file limit of Supabase's free plan. */
  partSizeBytes?: number;
  /** Retries of a part upload or download after a 5xx, 408, 429 or network error. Default 3. */
  retries?: number;
  /** First delay between retries, doubled each time. Default 500 ms. */
  retryDelayMs?: number;
}

/** The object stored last, once every part is uploaded: its presence makes a key complete. */
interface PartsIndex {
  format: 'supagate-parts/1';
  key: string;
  sizeBytes: number;
  sha256: string;
  partSizeBytes: number;
  parts: { name: string; sizeBytes: number; sha256: string }[];
}

const INDEX_SUFFIX = '.parts.json';
const MIB = 1024 * 1024;

/**
 * A private Supabase Storage bucket, through @supabase/supabase-js with the service_role key.
 *
 * Files are stored in fixed-size parts, `<prefix>/<key>.part-0000`, `…part-0001`, each
 * uploaded on its own (so one upload never exceeds the project's file size limit, memory stays
 * at one part, and a failed part is retried alone), followed by `<prefix>/<key>.parts.json`
 * listing the parts with their sizes and SHA-256. A key exists once its index does; `get`
 * streams the parts back in order, checking each part's size and hash.
 */
export class SupabaseStorageStore implements BackupStore {
  readonly kind = 'supabase-storage';
  readonly bucket: string;
  readonly prefix: string;
  readonly partSizeBytes: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #client: ReturnType<typeof storageApiClient>;
  #bucketChecked: Promise<void> | undefined;

  constructor(options: SupabaseStorageStoreOptions) {
    registerSecret(options.serviceKey);
    if (!options.serviceKey) {
      throw new SupagateError(
        'CONFIG_INVALID',
        'The Supabase Storage backup store needs a service_role key',
        {
          hint: 'Set SUPABASE_SERVICE_ROLE_KEY (a secret), or choose another backup store.',
        },
      );
    }
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? 'supagate-backups').replace(/^\/+|\/+$/g, '');
    this.partSizeBytes = options.partSizeBytes ?? 32 * MIB;
    if (!Number.isInteger(this.partSizeBytes) || this.partSizeBytes < 1024) {
      throw new SupagateError(
        'CONFIG_INVALID',
        `Invalid part size ${this.partSizeBytes} for Supabase Storage`,
        {
          hint: 'Use a whole number of bytes, at least 1024.',
        },
      );
    }
    this.#retries = options.retries ?? 3;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#client = storageApiClient(options.url, options.serviceKey);
  }

  #path(name: string): string {
    return this.prefix ? `${this.prefix}/${name}` : name;
  }

  #location(key: string): string {
    return `supabase-storage://${this.bucket}/${this.#path(key)}`;
  }

  /** Refuses a public bucket (anyone could download backups by URL) and a missing one. */
  checkBucket(): Promise<void> {
    this.#bucketChecked ??= (async () => {
      const { data, error } = await this.#client.storage.getBucket(this.bucket);
      if (error || !data) {
        throw new SupagateError(
          'BACKUP_STORE_FAILED',
          `Supabase Storage bucket "${this.bucket}" is not readable: ${redact(error?.message ?? 'no such bucket')}`,
          {
            hint: 'Create a private bucket for backups (Storage → New bucket, Public off) and use the service_role key.',
            details: { bucket: this.bucket },
          },
        );
      }
      if (data.public) {
        throw new SupagateError(
          'BACKUP_STORE_PUBLIC',
          `Supabase Storage bucket "${this.bucket}" is public: anyone could download backups from it by URL`,
          {
            hint: 'Make the bucket private (Storage → bucket settings → Public off) or use another bucket.',
            details: { bucket: this.bucket },
          },
        );
      }
    })();
    // A failed check is not cached: the next call asks again.
    this.#bucketChecked.catch(() => {
      this.#bucketChecked = undefined;
    });
    return this.#bucketChecked;
  }

  async put(key: string, stream: Readable): Promise<{ location: string }> {
    assertStoreKey(key);
    try {
      await this.checkBucket();
    } catch (error) {
      stream.destroy();
      throw error;
    }
    const uploaded: string[] = [];
    const parts: PartsIndex['parts'] = [];
    const whole = createHash('sha256');
    let sizeBytes = 0;
    const buffer = Buffer.allocUnsafe(this.partSizeBytes);
    let filled = 0;
    const flushPart = async () => {
      const name = `${key}.part-${String(parts.length).padStart(4, '0')}`;
      const body = buffer.subarray(0, filled);
      const sha256 = createHash('sha256').update(body).digest('hex');
      await this.#upload(name, body, 'application/octet-stream');
      uploaded.push(name);
      parts.push({ name, sizeBytes: filled, sha256 });
      filled = 0;
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer | string>) {
        let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        whole.update(data);
        sizeBytes += data.length;
        while (data.length > 0) {
          const taken = Math.min(this.partSizeBytes - filled, data.length);
          data.copy(buffer, filled, 0, taken);
          filled += taken;
          data = data.subarray(taken);
          if (filled === this.partSizeBytes) await flushPart();
        }
      }
      if (filled > 0) await flushPart();
      const index: PartsIndex = {
        format: 'supagate-parts/1',
        key,
        sizeBytes,
        sha256: whole.digest('hex'),
        partSizeBytes: this.partSizeBytes,
        parts,
      };
      await this.#upload(
        `${key}${INDEX_SUFFIX}`,
        Buffer.from(JSON.stringify(index, null, 2)),
        'application/json',
      );
    } catch (error) {
      stream.destroy();
      await this.#removeObjects(uploaded).catch(() => {});
      throw error;
    }
    return { location: this.#location(key) };
  }

  async get(key: string): Promise<Readable> {
    assertStoreKey(key);
    await this.checkBucket();
    const index = await this.#readIndex(key);
    if (!index) throw notFound(this.kind, key);
    const store = this;
    async function* parts(): AsyncGenerator<Buffer> {
      const whole = createHash('sha256');
      for (const part of index?.parts ?? []) {
        const body = await store.#download(part.name);
        const sha256 = createHash('sha256').update(body).digest('hex');
        if (body.length !== part.sizeBytes || sha256 !== part.sha256) {
          throw new SupagateError(
            'BACKUP_STORE_FAILED',
            `Part ${part.name} of "${key}" in Supabase Storage is damaged (size or SHA-256 differs from its index)`,
            {
              hint: 'The stored backup was altered or partly overwritten: use another backup.',
              details: { key },
            },
          );
        }
        whole.update(body);
        yield body;
      }
      if (whole.digest('hex') !== index?.sha256) {
        throw new SupagateError(
          'BACKUP_STORE_FAILED',
          `"${key}" in Supabase Storage does not match its index`,
          {
            details: { key },
          },
        );
      }
    }
    return Readable.from(parts(), { objectMode: false });
  }

  async list(): Promise<string[]> {
    await this.checkBucket();
    const names = await this.#listAll();
    return names
      .filter((name) => name.endsWith(INDEX_SUFFIX))
      .map((name) => name.slice(0, -INDEX_SUFFIX.length))
      .filter((key) => KEY.test(key))
      .sort();
  }

  async remove(key: string): Promise<void> {
    assertStoreKey(key);
    await this.checkBucket();
    // The index first: a half-removed key is no longer listed.
    const index = await this.#readIndex(key).catch(() => undefined);
    await this.#removeObjects([`${key}${INDEX_SUFFIX}`]);
    const listed = (await this.#listAll()).filter((name) => name.startsWith(`${key}.part-`));
    const names = new Set([...(index?.parts.map((part) => part.name) ?? []), ...listed]);
    await this.#removeObjects([...names]);
  }

  /** From the parts index, which put wrote last. */
  async size(key: string): Promise<number> {
    assertStoreKey(key);
    await this.checkBucket();
    const index = await this.#readIndex(key);
    if (!index) throw notFound(this.kind, key);
    return index.sizeBytes;
  }

  async #readIndex(key: string): Promise<PartsIndex | undefined> {
    let body: Buffer;
    try {
      body = await this.#download(`${key}${INDEX_SUFFIX}`);
    } catch (error) {
      if (error instanceof SupagateError && error.code === 'BACKUP_NOT_FOUND') return undefined;
      throw error;
    }
    const index = JSON.parse(body.toString('utf8')) as PartsIndex;
    if (index.format !== 'supagate-parts/1' || !Array.isArray(index.parts)) {
      throw new SupagateError('BACKUP_STORE_FAILED', `"${key}${INDEX_SUFFIX}" is not a supagate parts index`);
    }
    return index;
  }

  async #upload(name: string, body: Buffer, contentType: string): Promise<void> {
    await this.#withRetries(`upload ${name}`, async () => {
      const { error } = await this.#client.storage
        .from(this.bucket)
        .upload(this.#path(name), body, { contentType, upsert: true, cacheControl: '0' });
      if (error) throw error;
    });
  }

  async #download(name: string): Promise<Buffer> {
    return this.#withRetries(`download ${name}`, async () => {
      const { data, error } = await this.#client.storage.from(this.bucket).download(this.#path(name));
      if (error) {
        if (isNotFound(error)) throw notFound(this.kind, name);
        throw error;
      }
      return Buffer.from(await data.arrayBuffer());
    });
  }

  async #listAll(): Promise<string[]> {
    const names: string[] = [];
    const limit = 1000;
    for (let offset = 0; ; offset += limit) {
      const { data, error } = await this.#client.storage.from(this.bucket).list(this.prefix, {
        limit,
        offset,
        sortBy: { column: 'name', order: 'asc' },
      });
      if (error) throw storeFailed('list', this.bucket, error);
      // Folders come back with a null id.
      for (const entry of data) if (entry.id !== null) names.push(entry.name);
      if (data.length < limit) return names;
    }
  }

  async #removeObjects(names: string[]): Promise<void> {
    for (let i = 0; i < names.length; i += 1000) {
      const batch = names.slice(i, i + 1000).map((name) => this.#path(name));
      const { error } = await this.#client.storage.from(this.bucket).remove(batch);
      if (error) throw storeFailed('remove', this.bucket, error);
    }
  }

  async #withRetries<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(work, {
        retries: this.#retries,
        delayMs: this.#retryDelayMs,
        retryable: (error) => !(error instanceof SupagateError) && isTransient(error),
      });
    } catch (error) {
      throw error instanceof SupagateError ? error : storeFailed(what, this.bucket, error);
    }
  }
}

function isNotFound(error: unknown): boolean {
  const status = httpStatusOf(error);
  const code = String((error as { statusCode?: unknown })?.statusCode ?? '');
  return status === 404 || code === '404' || /not.?found/i.test((error as Error)?.message ?? '');
}

/** 5xx, 408, 429 and network errors (no HTTP status) are worth another try; other 4xx are not. */
function isTransient(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status === undefined) return true;
  return status >= 500 || status === 408 || status === 429;
}

function storeFailed(what: string, bucket: string, error: unknown): SupagateError {
  const message = redact(error instanceof Error ? error.message : String(error));
  const status = httpStatusOf(error);
  return new SupagateError(
    'BACKUP_STORE_FAILED',
    `Supabase Storage ${what} in bucket "${bucket}" failed${status ? ` (HTTP ${status})` : ''}: ${message}`,
    {
      hint: 'Check the project URL, that the service_role key is current, and the project’s file size limit (Storage settings).',
      details: { bucket, ...(status ? { status } : {}) },
      cause: error,
    },
  );
}

/* ------------------------------------------------------------------------------------------ */
/* GitHub Actions artifacts                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** Uploads one file as an artifact; the Action provides it (@actions/artifact). */

// Split out to keep this file short; imported from here as before.
export { ArtifactStore, type ArtifactStoreOptions, type ArtifactUploader } from './artifact-store.js';
