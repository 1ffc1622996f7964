import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decryptStream, encryptStream } from '../src/core/backup/encryption.js';
import { SupabaseStorageStore } from '../src/core/backup/stores.js';
import { SupagateError } from '../src/core/errors.js';
import { rejection } from './harness/errors.js';
import { FakeSupabaseStorageServer } from './harness/fake-supabase-storage.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(chunks);
}

const SERVICE_KEY = `service-role-${randomBytes(12).toString('hex')}`;
const KEY = randomBytes(32).toString('hex');
const PART = 64 * 1024;

describe('SupabaseStorageStore', () => {
  const server = new FakeSupabaseStorageServer(SERVICE_KEY);
  const store = (options: { bucket?: string; retries?: number } = {}) =>
    new SupabaseStorageStore({
      url: server.url,
      serviceKey: SERVICE_KEY,
      bucket: options.bucket ?? 'backups',
      prefix: 'supagate-backups',
      partSizeBytes: PART,
      retries: options.retries ?? 3,
      retryDelayMs: 5,
    });

  beforeAll(async () => {
    await server.start();
    server.buckets.set('backups', { public: false });
    server.buckets.set('avatars', { public: true });
  });
  afterEach(() => server.reset());
  afterAll(async () => {
    await server.stop();
  });

  it('uploads an encrypted stream in parts and streams it back', async () => {
    const plain = randomBytes(300 * 1024);
    const backups = store();
    const pieces = Array.from({ length: 30 }, (_, i) => plain.subarray(i * 10 * 1024, (i + 1) * 10 * 1024));
    const encrypted = Readable.from(pieces).pipe(encryptStream(KEY));
    const { location } = await backups.put('20240101T000000000Z-abcd.dump.enc', encrypted);
    expect(location).toBe('supabase-storage://backups/supagate-backups/20240101T000000000Z-abcd.dump.enc');

    const names = server.names('backups', 'supagate-backups');
    expect(names).toEqual([
      '20240101T000000000Z-abcd.dump.enc.part-0000',
      '20240101T000000000Z-abcd.dump.enc.part-0001',
      '20240101T000000000Z-abcd.dump.enc.part-0002',
      '20240101T000000000Z-abcd.dump.enc.part-0003',
      '20240101T000000000Z-abcd.dump.enc.part-0004',
      '20240101T000000000Z-abcd.dump.enc.parts.json',
    ]);
    for (const name of names.filter((n) => n.includes('.part-'))) {
      expect(server.objects.get(`backups/supagate-backups/${name}`)?.length).toBeLessThanOrEqual(PART);
    }
    // The index is uploaded last: a key exists once all its parts do.
    const uploads = server.requests.filter((r) => r.method === 'POST' && !r.url.includes('/list/'));
    expect(uploads.at(-1)?.url).toContain('.parts.json');
    const index = JSON.parse(
      server.objects
        .get('backups/supagate-backups/20240101T000000000Z-abcd.dump.enc.parts.json')
        ?.toString() ?? '',
    );
    expect(index).toMatchObject({ format: 'supagate-parts/1', partSizeBytes: PART });
    expect(index.parts).toHaveLength(5);

    expect(await backups.list()).toEqual(['20240101T000000000Z-abcd.dump.enc']);
    const back = await collect(
      (await backups.get('20240101T000000000Z-abcd.dump.enc')).pipe(decryptStream(KEY)),
    );
    expect(back.equals(plain)).toBe(true);

    await backups.remove('20240101T000000000Z-abcd.dump.enc');
    expect(server.names('backups', 'supagate-backups')).toEqual([]);
    expect(await backups.list()).toEqual([]);
  });

  it('retries a part after a 500 and uploads it again', async () => {
    const backups = store();
    server.failNext('POST', 'x.dump.part-0002', 500);
    const data = randomBytes(4 * PART + 100);
    await backups.put('x.dump', Readable.from([data]));
    const part2 = server.requests.filter((r) => r.method === 'POST' && r.url.endsWith('x.dump.part-0002'));
    expect(part2).toHaveLength(2);
    expect(part2.every((r) => r.bodyBytes === PART)).toBe(true);
    expect((await collect(await backups.get('x.dump'))).equals(data)).toBe(true);
  });

  it('gives up after the retries, leaving nothing behind', async () => {
    const backups = store({ retries: 2 });
    server.failNext('POST', 'y.dump.part-0001', 503, 10);
    const error = await rejection(backups.put('y.dump', Readable.from([randomBytes(3 * PART)])));
    expect(error.code).toBe('BACKUP_STORE_FAILED');
    expect(error.message).toContain('HTTP 503');
    expect(server.requests.filter((r) => r.url.endsWith('y.dump.part-0001'))).toHaveLength(3);
    expect(server.names('backups', 'supagate-backups')).toEqual([]);
  });

  it('does not retry what a retry cannot fix (4xx)', async () => {
    const backups = store();
    server.failNext('POST', 'z.dump.part-0000', 413);
    const error = await rejection(backups.put('z.dump', Readable.from([randomBytes(100)])));
    expect(error.code).toBe('BACKUP_STORE_FAILED');
    expect(server.requests.filter((r) => r.url.endsWith('z.dump.part-0000'))).toHaveLength(1);
  });

  it('leaves nothing when the input stream fails', async () => {
    const backups = store();
    async function* failing() {
      yield randomBytes(PART + 10);
      throw new SupagateError('BACKUP_FAILED', 'pg_dump exited with code 1');
    }
    const error = await rejection(backups.put('w.dump', Readable.from(failing())));
    expect(error.code).toBe('BACKUP_FAILED');
    expect(server.names('backups', 'supagate-backups')).toEqual([]);
  });

  it('detects a damaged part on the way back', async () => {
    const backups = store();
    await backups.put('v.dump', Readable.from([randomBytes(2 * PART)]));
    const part = server.objects.get('backups/supagate-backups/v.dump.part-0001') as Buffer;
    part[7] = (part[7] as number) ^ 1;
    const error = await rejection(collect(await backups.get('v.dump')));
    expect(error.code).toBe('BACKUP_STORE_FAILED');
    expect(error.message).toContain('v.dump.part-0001');
  });

  it('refuses a public bucket before uploading anything', async () => {
    const error = await rejection(
      store({ bucket: 'avatars' }).put('a.dump', Readable.from([Buffer.from('x')])),
    );
    expect(error.code).toBe('BACKUP_STORE_PUBLIC');
    expect(error.message).toContain('"avatars" is public');
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /storage/v1/bucket/avatars']);
  });

  it('explains a missing bucket', async () => {
    const error = await rejection(store({ bucket: 'nope' }).list());
    expect(error.code).toBe('BACKUP_STORE_FAILED');
    expect(error.message).toContain('"nope"');
  });

  it('answers BACKUP_NOT_FOUND for a key it does not have', async () => {
    const error = await rejection(store().get('missing.dump'));
    expect(error.code).toBe('BACKUP_NOT_FOUND');
  });

  it('sends the service key as a bearer token, never in a URL', async () => {
    const backups = store();
    await backups.put('k.dump', Readable.from([randomBytes(PART + 1)]));
    await collect(await backups.get('k.dump'));
    await backups.list();
    await backups.remove('k.dump');
    expect(server.requests.length).toBeGreaterThan(5);
    for (const request of server.requests) {
      expect(request.authorization).toBe(`Bearer ${SERVICE_KEY}`);
      expect(request.url).not.toContain(SERVICE_KEY);
      expect(decodeURIComponent(request.url)).not.toContain(SERVICE_KEY);
    }
  });

  it('lists complete keys only: a part without its index is no backup', async () => {
    const backups = store();
    for (let i = 0; i < 3; i++) {
      await backups.put(`p${i}.manifest.json`, Readable.from([Buffer.from(`{"n":${i}}`)]));
    }
    server.objects.set('backups/supagate-backups/q.dump.part-0000', Buffer.from('orphan'));
    server.objects.set('backups/supagate-backups/nested/r.dump.parts.json', Buffer.from('{}'));
    expect(await backups.list()).toEqual(['p0.manifest.json', 'p1.manifest.json', 'p2.manifest.json']);
    expect((await collect(await backups.get('p1.manifest.json'))).toString()).toBe('{"n":1}');
  });
});
