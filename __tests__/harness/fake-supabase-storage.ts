import { createHash, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  authorization: string | undefined;
  apikey: string | undefined;
  /** Every header, as received (lower-case names). */
  headers: IncomingHttpHeaders;
  body: Buffer;
  bodyBytes: number;
}

export interface InjectedFailure {
  method: string;
  pathIncludes: string;
  /**
   * HTTP status to answer; 0 drops the connection without an answer (a network error); -1
   * answers a download normally but cuts the connection half-way through the body.
   */
  status: number;
  times: number;
  message: string;
}

export interface FakeBucket {
  public: boolean;
  /** Bytes; uploads above it get 413. */
  fileSizeLimit?: number | null;
  /** `image/png`, `image/*`; uploads of other types get 415. */
  allowedMimeTypes?: string[] | null;
  type?: string;
}

export interface FakeObjectMeta {
  contentType: string;
  cacheControl: string;
  lastModified: string;
}

/**
 * FakeSupabaseStorageServer: a local stand-in for Supabase Storage's REST API, recording
 * requests. It plays the routes @supabase/storage-js calls (packages/StorageBucketApi.ts and
 * StorageFileApi.ts), under `/storage/v1` as supabase-js addresses them:
 *
 *     GET    /bucket                      listBuckets
 *     POST   /bucket                      createBucket (id, public, file_size_limit, allowed_mime_types)
 *     GET    /bucket/:id                  getBucket
 *     POST   /object/list/:bucket         list (prefix, limit, offset, sortBy): one folder level;
 *                                        folders come back with a null id and null metadata
 *     POST   /object/:bucket/:path        upload (x-upsert header, content-type, cache-control)
 *     PUT    /object/:bucket/:path        update
 *     GET    /object/:bucket/:path        download (content-type as uploaded)
 *     DELETE /object/:bucket              remove ({ prefixes })
 *
 * Paths are percent-decoded before they are matched, as Storage's router does. Requests without
 * `Authorization: Bearer <service key>` get 403, like Storage's RLS would answer for a private
 * bucket. Failures can be injected per route; `onStore` can alter what an upload stores (a
 * storage that answers 200 and keeps something else).
 */
export class FakeSupabaseStorageServer {
  readonly requests: RecordedRequest[] = [];
  readonly buckets = new Map<string, FakeBucket>();
  /** `bucket/path` → bytes. */
  readonly objects = new Map<string, Buffer>();
  /** `bucket/path` → content type and cache control (objects set directly get defaults). */
  readonly meta = new Map<string, FakeObjectMeta>();
  readonly failures: InjectedFailure[] = [];
  /** Called with each upload; what it returns is stored instead of the body. */
  onStore: ((key: string, body: Buffer) => Buffer) | undefined;
  #server: Server | undefined;
  url = '';

  constructor(readonly serviceKey: string) {}

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      void this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          this.#json(response, 500, { statusCode: '500', error: 'internal', message: String(error) });
        } else response.destroy();
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  /** Forgets requests, objects and failures; buckets stay. */
  reset(): void {
    this.requests.length = 0;
    this.objects.clear();
    this.meta.clear();
    this.failures.length = 0;
    this.onStore = undefined;
  }

  failNext(
    method: string,
    pathIncludes: string,
    status = 500,
    times = 1,
    message = 'injected failure',
  ): void {
    this.failures.push({ method, pathIncludes, status, times, message });
  }

  /** Stores an object directly, as if uploaded. */
  put(bucket: string, path: string, body: Buffer | string, contentType = 'application/octet-stream'): void {
    const key = `${bucket}/${path}`;
    this.objects.set(key, Buffer.from(body));
    this.meta.set(key, { contentType, cacheControl: 'max-age=3600', lastModified: new Date().toISOString() });
  }

  /** Object names under `bucket/prefix/` (every object of the bucket when prefix is ''). */
  names(bucket: string, prefix: string): string[] {
    const start = prefix ? `${bucket}/${prefix}/` : `${bucket}/`;
    return [...this.objects.keys()]
      .filter((key) => key.startsWith(start))
      .map((key) => key.slice(start.length))
      .sort();
  }

  #metaOf(key: string): FakeObjectMeta {
    return (
      this.meta.get(key) ?? {
        contentType: 'application/octet-stream',
        cacheControl: 'max-age=3600',
        lastModified: '2024-01-01T00:00:00.000Z',
      }
    );
  }

  #bucketJson(id: string, bucket: FakeBucket): Record<string, unknown> {
    return {
      id,
      name: id,
      owner: '',
      type: bucket.type ?? 'STANDARD',
      public: bucket.public,
      file_size_limit: bucket.fileSizeLimit ?? null,
      allowed_mime_types: bucket.allowedMimeTypes ?? null,
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
    };
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const method = request.method ?? 'GET';
    const url = request.url ?? '/';
    this.requests.push({
      method,
      url,
      authorization: request.headers.authorization,
      apikey: request.headers.apikey as string | undefined,
      headers: { ...request.headers },
      body,
      bodyBytes: body.length,
    });
    const parsed = new URL(url, 'http://x');
    const path = decodeURIComponent(parsed.pathname).replace(/^\/storage\/v1/, '');

    const failure = this.failures.find(
      (f) => f.method === method && path.includes(f.pathIncludes) && f.times > 0,
    );
    let truncate = false;
    if (failure) {
      failure.times--;
      if (failure.status === -1) truncate = true;
      else if (failure.status === 0) {
        request.socket.destroy();
        return;
      }
      this.#json(response, failure.status, {
        statusCode: String(failure.status),
        error: 'injected',
        message: failure.message,
      });
      return;
    }
    if (request.headers.authorization !== `Bearer ${this.serviceKey}`) {
      this.#json(response, 403, {
        statusCode: '403',
        error: 'Unauthorized',
        message: 'new row violates row-level security policy',
      });
      return;
    }

    if (path === '/bucket' && method === 'GET') {
      const all = [...this.buckets.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([id, bucket]) => this.#bucketJson(id, bucket));
      const offset = Number(parsed.searchParams.get('offset') ?? 0);
      const limit = Number(parsed.searchParams.get('limit') ?? all.length);
      this.#json(response, 200, all.slice(offset, offset + limit));
      return;
    }
    if (path === '/bucket' && method === 'POST') {
      const options = JSON.parse(body.toString('utf8')) as {
        id?: string;
        name?: string;
        public?: boolean;
        file_size_limit?: number | null;
        allowed_mime_types?: string[] | null;
        type?: string;
      };
      const id = options.id ?? options.name ?? '';
      if (!id) {
        this.#json(response, 400, { statusCode: '400', error: 'invalid', message: 'bucket id is required' });
        return;
      }
      if (this.buckets.has(id)) {
        this.#json(response, 400, {
          statusCode: '409',
          error: 'Duplicate',
          message: 'The resource already exists',
        });
        return;
      }
      this.buckets.set(id, {
        public: options.public ?? false,
        fileSizeLimit: options.file_size_limit ?? null,
        allowedMimeTypes: options.allowed_mime_types ?? null,
        ...(options.type ? { type: options.type } : {}),
      });
      this.#json(response, 200, { name: id });
      return;
    }

    let match = /^\/bucket\/([^/]+)$/.exec(path);
    if (match && method === 'GET') {
      const bucket = this.buckets.get(match[1] as string);
      if (!bucket) {
        this.#json(response, 400, {
          statusCode: '404',
          error: 'Bucket not found',
          message: 'Bucket not found',
        });
        return;
      }
      this.#json(response, 200, this.#bucketJson(match[1] as string, bucket));
      return;
    }

    match = /^\/object\/list\/([^/]+)$/.exec(path);
    if (match && method === 'POST') {
      const bucket = match[1] as string;
      if (!this.buckets.has(bucket)) {
        this.#json(response, 400, {
          statusCode: '404',
          error: 'Bucket not found',
          message: 'Bucket not found',
        });
        return;
      }
      const options = JSON.parse(body.toString('utf8')) as { prefix: string; limit: number; offset: number };
      const folder = options.prefix ? `${bucket}/${options.prefix.replace(/\/$/, '')}/` : `${bucket}/`;
      type Entry = {
        name: string;
        id: string | null;
        updated_at: string | null;
        created_at: string | null;
        last_accessed_at: string | null;
        metadata: Record<string, unknown> | null;
      };
      // A name can be both a folder and a file (`a` and `a/b`): keyed by kind too.
      const entries = new Map<string, Entry>();
      for (const [key, bytes] of this.objects) {
        if (!key.startsWith(folder)) continue;
        const rest = key.slice(folder.length);
        const slash = rest.indexOf('/');
        if (slash >= 0) {
          const name = rest.slice(0, slash);
          entries.set(`d:${name}`, {
            name,
            id: null,
            updated_at: null,
            created_at: null,
            last_accessed_at: null,
            metadata: null,
          });
        } else {
          const meta = this.#metaOf(key);
          entries.set(`f:${rest}`, {
            name: rest,
            id: randomUUID(),
            updated_at: meta.lastModified,
            created_at: meta.lastModified,
            last_accessed_at: meta.lastModified,
            metadata: {
              eTag: `"${createHash('md5').update(bytes).digest('hex')}"`,
              size: bytes.length,
              mimetype: meta.contentType,
              cacheControl: meta.cacheControl,
              lastModified: meta.lastModified,
              contentLength: bytes.length,
              httpStatusCode: 200,
            },
          });
        }
      }
      const sorted = [...entries.values()].sort((a, b) =>
        a.name === b.name ? (a.id === null ? -1 : 1) : a.name < b.name ? -1 : 1,
      );
      const offset = options.offset ?? 0;
      const limit = options.limit ?? 100;
      this.#json(response, 200, sorted.slice(offset, offset + limit));
      return;
    }

    match = /^\/object\/([^/]+)\/(.+)$/.exec(path);
    if (match && (method === 'POST' || method === 'PUT')) {
      const bucketId = match[1] as string;
      const key = `${bucketId}/${match[2]}`;
      const bucket = this.buckets.get(bucketId);
      if (!bucket) {
        this.#json(response, 400, {
          statusCode: '404',
          error: 'Bucket not found',
          message: 'Bucket not found',
        });
        return;
      }
      if (method === 'POST' && this.objects.has(key) && request.headers['x-upsert'] !== 'true') {
        this.#json(response, 400, {
          statusCode: '409',
          error: 'Duplicate',
          message: 'The resource already exists',
        });
        return;
      }
      if (method === 'PUT' && !this.objects.has(key)) {
        this.#json(response, 400, { statusCode: '404', error: 'not_found', message: 'Object not found' });
        return;
      }
      const contentType = request.headers['content-type'] ?? 'application/octet-stream';
      if (bucket.fileSizeLimit != null && body.length > bucket.fileSizeLimit) {
        this.#json(response, 413, {
          statusCode: '413',
          error: 'Payload too large',
          message: 'The object exceeded the maximum allowed size',
        });
        return;
      }
      if (bucket.allowedMimeTypes?.length && !mimeAllowed(contentType, bucket.allowedMimeTypes)) {
        this.#json(response, 415, {
          statusCode: '415',
          error: 'invalid_mime_type',
          message: `mime type ${contentType} is not supported`,
        });
        return;
      }
      this.objects.set(key, this.onStore ? this.onStore(key, body) : body);
      const cacheControl = request.headers['cache-control'];
      this.meta.set(key, {
        contentType,
        cacheControl: typeof cacheControl === 'string' ? cacheControl : 'no-cache',
        lastModified: new Date().toISOString(),
      });
      this.#json(response, 200, { Id: randomUUID(), Key: key });
      return;
    }
    if (match && method === 'GET') {
      const key = `${match[1]}/${match[2]}`;
      const bytes = this.objects.get(key);
      if (!bytes) {
        this.#json(response, 400, { statusCode: '404', error: 'not_found', message: 'Object not found' });
        return;
      }
      const meta = this.#metaOf(key);
      response.writeHead(200, {
        'content-type': meta.contentType,
        'cache-control': meta.cacheControl,
        'content-length': bytes.length,
      });
      if (truncate) {
        response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => request.socket.destroy());
        return;
      }
      response.end(bytes);
      return;
    }

    match = /^\/object\/([^/]+)$/.exec(path);
    if (match && method === 'DELETE') {
      const { prefixes } = JSON.parse(body.toString('utf8')) as { prefixes: string[] };
      const removed = [];
      for (const name of prefixes) {
        const key = `${match[1]}/${name}`;
        this.meta.delete(key);
        if (this.objects.delete(key)) removed.push({ name, bucket_id: match[1] });
      }
      this.#json(response, 200, removed);
      return;
    }
    this.#json(response, 404, {
      statusCode: '404',
      error: 'not_found',
      message: `no route ${method} ${path}`,
    });
  }

  #json(response: ServerResponse, status: number, value: unknown): void {
    const text = JSON.stringify(value);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(text);
  }
}

function mimeAllowed(contentType: string, allowed: string[]): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.endsWith('/*') ? type.startsWith(p.slice(0, -1)) : p === type;
  });
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
