import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { redact } from '../db/redact.js';
import { SupagateError } from '../errors.js';
import { withRetries } from '../retry.js';
import type { StorageProject } from './storage-copy.js';
import { httpStatusOf, storageApiClient } from './supabase-client.js';

/** The Storage REST API of one project, as the Storage copy uses it (storage-copy.ts). */

export interface Settings {
  retries: number;
  retryDelayMs: number;
  pageSize: number;
}

export interface BucketInfo {
  id: string;
  public: boolean;
  fileSizeLimit: number | string | null;
  allowedMimeTypes: string[] | null;
}

export interface ObjectInfo {
  name: string;
  /** From the listing's metadata; undefined when it had none. */
  size: number | undefined;
  mimetype: string | undefined;
  cacheControl: string | undefined;
}

export interface Digest {
  sha256: string;
  size: number;
}

export type Role = 'source' | 'target';

/** One project's Storage API, with its service key: every request the copy makes. */
export class Side {
  readonly host: string;
  /** Origin and path, to tell two projects apart. */
  readonly address: string;
  readonly #client: ReturnType<typeof storageApiClient>;

  constructor(
    readonly role: Role,
    project: StorageProject,
    readonly settings: Settings,
  ) {
    if (!project?.url) {
      throw new SupagateError('CONFIG_INVALID', `Copying Storage needs the ${role} project's URL`, {
        hint: `Pass the ${role} project URL (https://<ref>.supabase.co) with its service_role key.`,
        details: { side: role },
      });
    }
    let url: URL;
    try {
      url = new URL(project.url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http');
    } catch {
      throw new SupagateError(
        'CONFIG_INVALID',
        `The ${role} project URL "${redact(project.url)}" is not an http(s) URL`,
        {
          hint: 'Use the project URL, https://<ref>.supabase.co (Project Settings → API), not the database URL.',
          details: { side: role },
        },
      );
    }
    this.host = url.host;
    this.address = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    if (!project.serviceKey) {
      throw new SupagateError(
        'CONFIG_INVALID',
        `Copying Storage needs the ${role} project's service_role key`,
        {
          hint: 'Pass it from a secret (SUPABASE_SERVICE_ROLE_KEY of each project).',
          details: { side: role },
        },
      );
    }
    const keyKind = keyRole(project.serviceKey);
    if (keyKind !== undefined && keyKind !== 'service_role' && keyKind !== 'supabase_admin') {
      throw new SupagateError(
        'STORAGE_COPY_FORBIDDEN',
        `The ${role} key (${this.host}) is a ${keyKind} key, not a service_role key: it cannot see private buckets`,
        { hint: FORBIDDEN_HINT, details: { side: role, keyRole: keyKind } },
      );
    }
    this.#client = storageApiClient(project.url, project.serviceKey);
  }

  #files(bucket: string) {
    return this.#client.storage.from(encodeURIComponent(bucket));
  }

  async listBuckets(): Promise<BucketInfo[]> {
    const buckets = await this.#call('list buckets', () => this.#client.storage.listBuckets());
    return buckets.map(bucketInfo);
  }

  async getBucket(id: string): Promise<BucketInfo> {
    return bucketInfo(
      await this.#call(`read bucket "${id}"`, () => this.#client.storage.getBucket(encodeURIComponent(id))),
    );
  }

  /** Creates the bucket with the source's settings; false when it already exists. */
  async createBucket(bucket: BucketInfo): Promise<boolean> {
    return retrying(this.settings, async () => {
      const { error } = await this.#client.storage.createBucket(bucket.id, {
        public: bucket.public,
        fileSizeLimit: bucket.fileSizeLimit,
        allowedMimeTypes: bucket.allowedMimeTypes,
      });
      if (!error) return true;
      if (bodyStatusOf(error) === 409) return false;
      throw this.#fail(`create bucket "${bucket.id}"`, error);
    });
  }

  /** Every object of the bucket, by full name: folder by folder, page by page. */
  async listObjects(bucket: string): Promise<Map<string, ObjectInfo>> {
    const objects = new Map<string, ObjectInfo>();
    const folders = [''];
    const seenFolders = new Set(folders);
    for (let i = 0; i < folders.length; i++) {
      const folder = folders[i] as string;
      const seen = new Set<string>();
      for (let offset = 0; ; ) {
        const page = await this.#call(`list "${bucket}/${folder}"`, () =>
          this.#files(bucket).list(folder, {
            limit: this.settings.pageSize,
            offset,
            sortBy: { column: 'name', order: 'asc' },
          }),
        );
        let fresh = 0;
        for (const entry of page) {
          if (!entry.name) continue;
          const isFolder = entry.id === null || entry.id === undefined;
          const key = `${isFolder ? 'd' : 'f'}:${entry.name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          fresh++;
          const path = folder ? `${folder}/${entry.name}` : entry.name;
          if (isFolder) {
            if (!seenFolders.has(path)) {
              seenFolders.add(path);
              folders.push(path);
            }
            continue;
          }
          const metadata = (entry.metadata ?? {}) as {
            size?: unknown;
            mimetype?: unknown;
            cacheControl?: unknown;
          };
          const size = Number(metadata.size);
          objects.set(path, {
            name: path,
            size:
              metadata.size === undefined || metadata.size === null || !Number.isFinite(size)
                ? undefined
                : size,
            mimetype: typeof metadata.mimetype === 'string' ? metadata.mimetype : undefined,
            cacheControl: typeof metadata.cacheControl === 'string' ? metadata.cacheControl : undefined,
          });
        }
        // A short page ends the folder; so does a page with nothing new (a server ignoring offset).
        if (page.length < this.settings.pageSize || fresh === 0) break;
        offset += page.length;
      }
    }
    return objects;
  }

  /** A stream of the object's bytes (one attempt; errors classified). */
  async openDownload(bucket: string, name: string): Promise<Readable> {
    const { data, error } = await this.#files(bucket)
      .download(encodePath(name))
      .asStream()
      .then(
        (outcome) => outcome,
        (thrown: unknown) => ({ data: null, error: thrown }),
      );
    if (error) throw this.#fail(`download "${bucket}/${name}"`, error);
    if (!data) return Readable.from([]);
    return Readable.fromWeb(data as unknown as WebReadableStream<Uint8Array>);
  }

  /** Uploads a stream under the name, replacing what is there (one attempt; errors classified). */
  async upload(bucket: string, name: string, body: Readable, item: ObjectInfo): Promise<void> {
    const maxAge = /max-age=(\d+)/.exec(item.cacheControl ?? '')?.[1];
    let error: unknown;
    try {
      ({ error } = await this.#files(bucket).upload(encodePath(name), body, {
        upsert: true,
        contentType: item.mimetype ?? 'application/octet-stream',
        ...(maxAge ? { cacheControl: maxAge } : {}),
        duplex: 'half',
      }));
    } catch (thrown) {
      error = thrown;
    }
    if (error) throw this.#fail(`upload "${bucket}/${name}"`, error);
  }

  /** SHA-256 and size of the object as downloaded now (with retries). */
  async digest(bucket: string, name: string): Promise<Digest> {
    return retrying(this.settings, async () => {
      const stream = await this.openDownload(bucket, name);
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
        }
      } catch (error) {
        stream.destroy();
        throw this.#fail(`download "${bucket}/${name}"`, error);
      }
      return { sha256: hash.digest('hex'), size };
    });
  }

  async #call<T>(what: string, operation: () => Promise<{ data: T | null; error: unknown }>): Promise<T> {
    return retrying(this.settings, async () => {
      let outcome: { data: T | null; error: unknown };
      try {
        outcome = await operation();
      } catch (error) {
        throw this.#fail(what, error);
      }
      if (outcome.error || outcome.data === null) throw this.#fail(what, outcome.error ?? 'no answer');
      return outcome.data;
    });
  }

  /** A typed error: forbidden (stop), retryable (5xx, 408, 429, network) or failed. */
  #fail(what: string, error: unknown): Error {
    if (error instanceof SupagateError || error instanceof Retryable) return error;
    const status = httpStatusOf(error);
    const bodyStatus = bodyStatusOf(error);
    const message = messageOf(error);
    const denied =
      status === 401 ||
      status === 403 ||
      bodyStatus === 401 ||
      bodyStatus === 403 ||
      (status === 400 && /\b(jwt|jws|invalid signature|unauthori[sz]ed)\b/i.test(message));
    if (denied) {
      return new SupagateError(
        'STORAGE_COPY_FORBIDDEN',
        `The ${this.role} project (${this.host}) refused to ${what} (HTTP ${status ?? bodyStatus}): ${message}`,
        { hint: FORBIDDEN_HINT, details: { side: this.role, status: status ?? bodyStatus } },
      );
    }
    const failed = new SupagateError(
      'STORAGE_COPY_FAILED',
      `Supabase Storage on the ${this.role} (${this.host}) could not ${what}${status ? ` (HTTP ${status})` : ''}: ${message}`,
      {
        hint: 'Check the project URL and its Storage settings (file size limit, allowed MIME types); retries are made after 5xx, 429 and network errors.',
        details: {
          side: this.role,
          ...(status ? { status } : {}),
          ...(bodyStatus ? { statusCode: bodyStatus } : {}),
        },
      },
    );
    const transient =
      status === undefined ||
      status >= 500 ||
      status === 408 ||
      status === 429 ||
      (bodyStatus !== undefined && (bodyStatus >= 500 || bodyStatus === 429));
    return transient ? new Retryable(failed) : failed;
  }
}

const FORBIDDEN_HINT =
  "Use each project's service_role key (Project Settings → API Keys → service_role, or a secret key sb_secret_…): the anon and publishable keys cannot list buckets or read private files.";

/** A failure worth another try; `final` is what is thrown when the tries run out. */
class Retryable extends Error {
  constructor(readonly final: SupagateError) {
    super(final.message);
  }
}

export async function retrying<T>(settings: Settings, work: () => Promise<T>): Promise<T> {
  try {
    return await withRetries(work, {
      retries: settings.retries,
      delayMs: settings.retryDelayMs,
      retryable: (error) => error instanceof Retryable,
    });
  } catch (error) {
    throw error instanceof Retryable ? error.final : error;
  }
}

function bucketInfo(bucket: {
  id: string;
  public: boolean;
  file_size_limit?: number | string | null;
  allowed_mime_types?: string[] | null;
}): BucketInfo {
  return {
    id: bucket.id,
    public: bucket.public === true,
    fileSizeLimit: bucket.file_size_limit ?? null,
    allowedMimeTypes: bucket.allowed_mime_types?.length ? [...bucket.allowed_mime_types] : null,
  };
}

function keyRole(key: string): string | undefined {
  if (key.startsWith('sb_secret_')) return 'service_role';
  if (key.startsWith('sb_publishable_')) return 'publishable';
  const parts = key.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as {
      role?: unknown;
    };
    return typeof payload.role === 'string' && /^[a-z_]{1,40}$/.test(payload.role) ? payload.role : undefined;
  } catch {
    return undefined;
  }
}

/** Each segment percent-encoded: names may hold `?`, `&`, spaces, which storage-js puts in the URL as they are. */
function encodePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

/** Storage puts the meaningful status in the body's statusCode (a 400 may carry "403" or "404"). */
function bodyStatusOf(error: unknown): number | undefined {
  const code = Number((error as { statusCode?: unknown })?.statusCode);
  return Number.isInteger(code) && code >= 100 && code < 600 ? code : undefined;
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error && cause.message !== error.message ? ` (${cause.message})` : '';
    return redact(`${error.message}${detail}`);
  }
  return redact(typeof error === 'string' ? error : JSON.stringify(error));
}
