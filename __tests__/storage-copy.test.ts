import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  copyStorageObjects,
  type StorageCopyOptions,
  type StorageCopyProgress,
  type StorageCopyResult,
} from '../src/core/backup/storage-copy.js';
import { rejection } from './harness/errors.js';
import { FakeSupabaseStorageServer, type RecordedRequest } from './harness/fake-supabase-storage.js';

const SOURCE_KEY = `source-service-role-${randomBytes(16).toString('hex')}`;
const TARGET_KEY = `target-service-role-${randomBytes(16).toString('hex')}`;
const WRONG_KEY = `wrong-service-role-${randomBytes(16).toString('hex')}`;

const sha256 = (bytes: Buffer | undefined) =>
  createHash('sha256')
    .update(bytes ?? Buffer.alloc(0))
    .digest('hex');

/** A JWT-shaped key (unsigned: only its role claim is read). */
function jwtKey(role: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: 'supabase', role })}.${randomBytes(16).toString('base64url')}`;
}

const BINARY = randomBytes(300 * 1024 + 7);

describe('copyStorageObjects', () => {
  let source: FakeSupabaseStorageServer;
  let target: FakeSupabaseStorageServer;

  const copy = (options: Partial<StorageCopyOptions> = {}): Promise<StorageCopyResult> =>
    copyStorageObjects({
      from: { url: source.url, serviceKey: SOURCE_KEY },
      to: { url: target.url, serviceKey: TARGET_KEY },
      retryDelayMs: 1,
      ...options,
    });

  const uploads = (server: FakeSupabaseStorageServer, path?: string): RecordedRequest[] =>
    server.requests.filter(
      (r) =>
        r.method === 'POST' &&
        r.url.startsWith('/storage/v1/object/') &&
        !r.url.startsWith('/storage/v1/object/list/') &&
        (path === undefined || decodeURIComponent(r.url) === `/storage/v1/object/${path}`),
    );

  beforeEach(async () => {
    source = new FakeSupabaseStorageServer(SOURCE_KEY);
    target = new FakeSupabaseStorageServer(TARGET_KEY);
    await Promise.all([source.start(), target.start()]);
    source.buckets.set('media', {
      public: true,
      fileSizeLimit: 1024 * 1024,
      allowedMimeTypes: ['image/*', 'text/plain', 'application/octet-stream'],
    });
    source.buckets.set('private-docs', { public: false });
    source.put('media', 'a/b/c.txt', 'nested three levels down\n', 'text/plain');
    source.put('media', 'a/b/d/e.bin', BINARY);
    source.put('media', 'top.png', randomBytes(2048), 'image/png');
    for (let i = 0; i < 7; i++) source.put('media', `a/x${i}.txt`, `file ${i}\n`, 'text/plain');
    source.put('private-docs', 'with space/a?b&c=d.txt', 'odd name', 'text/plain');
    source.put('private-docs', 'empty.txt', '', 'text/plain');
    // A name that is both a file and a folder.
    source.put('private-docs', 'a', 'file a', 'application/json');
    source.put('private-docs', 'a/b', 'file a/b', 'application/json');
  });
  afterEach(async () => {
    await Promise.all([source.stop(), target.stop()]);
  });

  it('creates missing buckets with the same settings and copies every object, nested and paged, byte for byte', async () => {
    const events: StorageCopyProgress[] = [];
    const result = await copy({ pageSize: 3, concurrency: 3, onProgress: (event) => events.push(event) });

    expect(result.ok).toBe(true);
    expect(result.buckets).toEqual([
      {
        id: 'media',
        public: true,
        created: true,
        objects: 10,
        bytes: [...source.objects.entries()]
          .filter(([key]) => key.startsWith('media/'))
          .reduce((sum, [, bytes]) => sum + bytes.length, 0),
        copied: 10,
        skipped: 0,
        mismatches: [],
        warnings: [],
      },
      {
        id: 'private-docs',
        public: false,
        created: true,
        objects: 4,
        bytes: 8 + 0 + 6 + 8,
        copied: 4,
        skipped: 0,
        mismatches: [],
        warnings: [],
      },
    ]);

    expect(target.buckets.get('media')).toEqual({
      public: true,
      fileSizeLimit: 1024 * 1024,
      allowedMimeTypes: ['image/*', 'text/plain', 'application/octet-stream'],
    });
    expect(target.buckets.get('private-docs')).toEqual({
      public: false,
      fileSizeLimit: null,
      allowedMimeTypes: null,
    });

    expect([...target.objects.keys()].sort()).toEqual([...source.objects.keys()].sort());
    for (const [key, bytes] of source.objects) {
      expect(sha256(target.objects.get(key)), key).toBe(sha256(bytes));
      expect(target.meta.get(key)?.contentType, key).toBe(source.meta.get(key)?.contentType);
    }
    expect(target.objects.get('media/a/b/d/e.bin')?.equals(BINARY)).toBe(true);
    expect(target.objects.get('private-docs/with space/a?b&c=d.txt')?.toString()).toBe('odd name');

    // Folder `a` of media holds 7 files and a folder: three pages of 3.
    const listsOfA = source.requests
      .filter((r) => r.url === '/storage/v1/object/list/media')
      .map((r) => JSON.parse(r.body.toString()) as { prefix: string; limit: number; offset: number })
      .filter((body) => body.prefix === 'a');
    expect(listsOfA.map((body) => [body.limit, body.offset]).slice(0, 3)).toEqual([
      [3, 0],
      [3, 3],
      [3, 6],
    ]);
    // Streamed, not sent whole at once: one upload per object, each the object's size.
    expect(uploads(target, 'media/a/b/d/e.bin').map((r) => r.bodyBytes)).toEqual([BINARY.length]);
    expect(uploads(target, 'media/a/b/d/e.bin')[0]?.headers['x-upsert']).toBe('true');
    expect(uploads(target, 'media/a/b/d/e.bin')[0]?.headers['transfer-encoding']).toBe('chunked');

    const objectEvents = events.filter((e) => e.phase === 'object');
    expect(objectEvents).toHaveLength(14);
    expect(objectEvents.every((e) => e.phase === 'object' && e.action === 'copied')).toBe(true);
    expect(events.filter((e) => e.phase === 'verify')).toEqual([
      { phase: 'verify', bucket: 'media', ok: true },
      { phase: 'verify', bucket: 'private-docs', ok: true },
    ]);
  });

  it('skips everything on a second run, and copies again what differs with the same size', async () => {
    const first = await copy({ pageSize: 4 });
    expect(first.ok).toBe(true);
    target.requests.length = 0;

    const second = await copy({ pageSize: 4 });
    expect(second.ok).toBe(true);
    expect(second.buckets.map((b) => [b.id, b.created, b.copied, b.skipped])).toEqual([
      ['media', false, 0, 10],
      ['private-docs', false, 0, 4],
    ]);
    expect(uploads(target)).toEqual([]);
    expect(target.requests.filter((r) => r.method === 'POST' && r.url === '/storage/v1/bucket')).toEqual([]);

    // Same size, other bytes: the hash comparison catches it.
    const changed = Buffer.from(BINARY);
    changed[1000] = (changed[1000] as number) ^ 0xff;
    source.put('media', 'a/b/d/e.bin', changed);
    // Other size: copied without hashing.
    source.put('media', 'a/x3.txt', 'a longer file 3\n', 'text/plain');
    const third = await copy({ pageSize: 4 });
    expect(third.ok).toBe(true);
    expect(third.buckets.map((b) => [b.id, b.copied, b.skipped])).toEqual([
      ['media', 2, 8],
      ['private-docs', 0, 4],
    ]);
    expect(target.objects.get('media/a/b/d/e.bin')?.equals(changed)).toBe(true);
    expect(target.objects.get('media/a/x3.txt')?.toString()).toBe('a longer file 3\n');
  });

  it('detects a copy corrupted on the target after its upload', async () => {
    const result = await copy({
      onProgress: (event) => {
        if (event.phase === 'object' && event.name === 'a/b/d/e.bin') {
          const stored = target.objects.get('media/a/b/d/e.bin') as Buffer;
          stored[12345] = (stored[12345] as number) ^ 1;
        }
      },
    });
    expect(result.ok).toBe(false);
    const media = result.buckets.find((b) => b.id === 'media');
    expect(media?.copied).toBe(10);
    expect(media?.mismatches).toHaveLength(1);
    expect(media?.mismatches[0]).toMatch(/^a\/b\/d\/e\.bin: the target's copy differs from the source/);
    expect(result.buckets.find((b) => b.id === 'private-docs')?.mismatches).toEqual([]);
  });

  it('does not trust an upload that answered 200 but stored other bytes', async () => {
    target.onStore = (key, body) => (key === 'private-docs/a' ? Buffer.from('FILE A') : body);
    const result = await copy({ buckets: ['private-docs'] });
    expect(result.ok).toBe(false);
    expect(result.buckets[0]?.mismatches).toEqual([expect.stringMatching(/^a: the target's copy differs/)]);
  });

  it('reports a public-flag conflict and copies nothing into that bucket', async () => {
    target.buckets.set('media', { public: false });
    const result = await copy();
    expect(result.ok).toBe(false);
    const media = result.buckets.find((b) => b.id === 'media');
    expect(media).toMatchObject({
      id: 'media',
      public: true,
      created: false,
      objects: 10,
      copied: 0,
      skipped: 0,
    });
    expect(media?.mismatches).toEqual([
      expect.stringContaining(
        'bucket "media" is public on the source but private on the target: nothing copied',
      ),
    ]);
    expect(target.buckets.get('media')).toEqual({ public: false });
    expect(target.names('media', '')).toEqual([]);
    expect(target.requests.some((r) => r.method === 'PUT')).toBe(false);
    // The other bucket is copied all the same.
    expect(result.buckets.find((b) => b.id === 'private-docs')).toMatchObject({ copied: 4, mismatches: [] });
  });

  it('warns about other settings of an existing bucket, and reports objects only the target has', async () => {
    target.buckets.set('private-docs', { public: false, fileSizeLimit: 10 });
    target.put('private-docs', 'only-here.txt', 'x');
    const result = await copy({ buckets: ['private-docs'] });
    const docs = result.buckets[0];
    expect(docs?.warnings).toEqual([
      'bucket "private-docs": file size limit none on the source, 10 on the target',
    ]);
    expect(docs?.copied).toBe(4);
    expect(docs?.mismatches).toEqual([
      'bucket "private-docs": 4 objects (22 bytes) on the source, 5 objects (23 bytes) on the target',
      'only-here.txt: on the target only',
    ]);
    expect(result.ok).toBe(false);
  });

  it('retries an upload that got a 500, a download cut off, and a list that got a 503', async () => {
    target.failNext('POST', '/object/media/a/b/d/e.bin', 500);
    source.failNext('GET', '/object/media/top.png', 0);
    source.failNext('POST', '/object/list/private-docs', 503);
    const result = await copy();
    expect(result.ok).toBe(true);
    expect(uploads(target, 'media/a/b/d/e.bin')).toHaveLength(2);
    expect(target.objects.get('media/a/b/d/e.bin')?.equals(BINARY)).toBe(true);
    expect(
      source.requests.filter((r) => r.method === 'GET' && r.url === '/storage/v1/object/media/top.png'),
    ).toHaveLength(2);
  });

  it('never uploads a download that was cut off half-way as the object', async () => {
    source.failNext('GET', '/object/media/a/b/d/e.bin', -1);
    const stored: number[] = [];
    target.onStore = (key, body) => {
      if (key === 'media/a/b/d/e.bin') stored.push(body.length);
      return body;
    };
    const result = await copy({ buckets: ['media'] });
    expect(result.ok).toBe(true);
    expect(stored).toEqual([BINARY.length]);
    expect(target.objects.get('media/a/b/d/e.bin')?.equals(BINARY)).toBe(true);
    expect(
      source.requests.filter((r) => r.method === 'GET' && r.url === '/storage/v1/object/media/a/b/d/e.bin'),
    ).toHaveLength(2);
  });

  it('gives up on an object after the retries and reports it, copying the rest', async () => {
    target.failNext('POST', '/object/media/top.png', 502, 10);
    const result = await copy({ retries: 2 });
    expect(result.ok).toBe(false);
    const media = result.buckets.find((b) => b.id === 'media');
    expect(media?.copied).toBe(9);
    expect(media?.mismatches[0]).toMatch(/^top\.png: not copied: .*HTTP 502/);
    expect(media?.mismatches).toContain('top.png: missing on the target');
    expect(uploads(target, 'media/top.png')).toHaveLength(3);
  });

  it('reports an upload the target refuses (4xx) without retrying it', async () => {
    target.buckets.set('media', { public: true, fileSizeLimit: 100 * 1024 });
    const result = await copy({ buckets: ['media'] });
    const media = result.buckets[0];
    expect(media?.warnings).toHaveLength(2);
    expect(media?.mismatches[0]).toMatch(/^a\/b\/d\/e\.bin: not copied: .*HTTP 413/);
    expect(uploads(target, 'media/a/b/d/e.bin')).toHaveLength(1);
    expect(media?.copied).toBe(9);
  });

  it('stops with STORAGE_COPY_FORBIDDEN on a 403, naming the side and never the key', async () => {
    const error = await rejection(
      copyStorageObjects({
        from: { url: source.url, serviceKey: SOURCE_KEY },
        to: { url: target.url, serviceKey: WRONG_KEY },
        retryDelayMs: 1,
      }),
    );
    expect(error.code).toBe('STORAGE_COPY_FORBIDDEN');
    expect(error.message).toContain('target');
    expect(error.message).toContain('HTTP 403');
    expect(error.hint).toContain('service_role');
    const printed = JSON.stringify(error.toJSON()) + String(error.stack);
    for (const key of [SOURCE_KEY, TARGET_KEY, WRONG_KEY]) expect(printed).not.toContain(key);
    // Not retried: a retry cannot fix a key.
    expect(target.requests).toHaveLength(1);
    expect(target.objects.size).toBe(0);
  });

  it('redacts a key that a refusing server echoes back', async () => {
    target.failNext('GET', '/bucket', 403, 1, `invalid key ${TARGET_KEY} for this project`);
    const error = await rejection(copy());
    expect(error.code).toBe('STORAGE_COPY_FORBIDDEN');
    expect(error.message).toContain('invalid key *** for this project');
    expect(JSON.stringify(error.toJSON())).not.toContain(TARGET_KEY);
  });

  it('stops on a 403 met in the middle of copying objects', async () => {
    source.failNext('GET', '/object/media/top.png', 403, 1, 'new row violates row-level security policy');
    const error = await rejection(copy({ concurrency: 1 }));
    expect(error.code).toBe('STORAGE_COPY_FORBIDDEN');
    expect(error.message).toContain('source');
  });

  it('refuses an anon key before sending anything', async () => {
    const anon = jwtKey('anon');
    const error = await rejection(
      copyStorageObjects({
        from: { url: source.url, serviceKey: anon },
        to: { url: target.url, serviceKey: TARGET_KEY },
      }),
    );
    expect(error.code).toBe('STORAGE_COPY_FORBIDDEN');
    expect(error.message).toContain('source key');
    expect(error.message).toContain('anon key');
    expect(error.message).not.toContain(anon);
    expect(source.requests).toEqual([]);
    expect(target.requests).toEqual([]);
  });

  it('sends each key only in the Authorization and apikey headers of its own project', async () => {
    await copy({ pageSize: 3 });
    source.put('media', 'later.txt', 'added later', 'text/plain');
    await copy({ pageSize: 3 });
    for (const [server, key, other] of [
      [source, SOURCE_KEY, TARGET_KEY],
      [target, TARGET_KEY, SOURCE_KEY],
    ] as const) {
      expect(server.requests.length).toBeGreaterThan(20);
      for (const request of server.requests) {
        expect(request.authorization).toBe(`Bearer ${key}`);
        expect(request.apikey).toBe(key);
        const elsewhere = [
          request.url,
          decodeURIComponent(request.url),
          request.body.toString('latin1'),
          ...Object.entries(request.headers)
            .filter(([name]) => name !== 'authorization' && name !== 'apikey')
            .map(([name, value]) => `${name}: ${String(value)}`),
        ].join('\n');
        expect(elsewhere).not.toContain(key);
        expect(elsewhere).not.toContain(other);
        expect(JSON.stringify(request.headers)).not.toContain(other);
      }
    }
  });

  it('refuses an unknown bucket, the same project twice, and a bad concurrency', async () => {
    const unknown = await rejection(copy({ buckets: ['media', 'nope'] }));
    expect(unknown.code).toBe('CONFIG_INVALID');
    expect(unknown.message).toContain('"nope"');
    expect(unknown.hint).toContain('media, private-docs');

    const same = await rejection(
      copyStorageObjects({
        from: { url: source.url, serviceKey: SOURCE_KEY },
        to: { url: `${source.url}/`, serviceKey: SOURCE_KEY },
      }),
    );
    expect(same.code).toBe('CONFIG_INVALID');

    expect((await rejection(copy({ concurrency: 0 }))).code).toBe('CONFIG_INVALID');
    expect(target.objects.size).toBe(0);
  });
});
