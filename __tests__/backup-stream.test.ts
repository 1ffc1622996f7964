import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { encryptStream } from '../src/core/backup/encryption.js';
import { FanOut } from '../src/core/backup/fan-out.js';
import { checkStoredSize } from '../src/core/backup/stored-size.js';
import { ArtifactStore, DirectoryStore, SupabaseStorageStore } from '../src/core/backup/stores.js';
import { rejection } from './harness/errors.js';
import { FakeSupabaseStorageServer } from './harness/fake-supabase-storage.js';

const CHUNK = 64 * 1024;

/** A source of `count` chunks that records how far it was read. */
function source(count: number): { stream: Readable; produced: () => number } {
  let produced = 0;
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (produced === count) this.push(null);
      else {
        produced++;
        this.push(Buffer.alloc(CHUNK, produced % 256));
      }
    },
  });
  return { stream, produced: () => produced };
}

/** A branch that takes a chunk every `delayMs`, counting what it took. */
function slowSink(delayMs: number): { stream: Writable; taken: () => number } {
  let taken = 0;
  const stream = new Writable({
    highWaterMark: CHUNK,
    write(_chunk: Buffer, _encoding, callback) {
      setTimeout(() => {
        taken++;
        callback();
      }, delayMs);
    },
  });
  return { stream, taken: () => taken };
}

function fastSink(): { stream: Writable; bytes: () => number } {
  let bytes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  return { stream, bytes: () => bytes };
}

describe('the fan-out that feeds the store and the verifiers', () => {
  it('goes at the pace of its slowest branch: nothing piles up in memory', async () => {
    const input = source(200);
    const slow = slowSink(1);
    const fast = fastSink();
    let mostAhead = 0;
    const watch = setInterval(() => {
      mostAhead = Math.max(mostAhead, input.produced() - slow.taken());
    }, 1);
    await pipeline(
      input.stream,
      new FanOut([
        { stream: slow.stream, droppable: false },
        { stream: fast.stream, droppable: false },
      ]),
    );
    clearInterval(watch);
    expect(slow.taken()).toBe(200);
    expect(fast.bytes()).toBe(200 * CHUNK);
    // Readable and writable buffers of a few chunks, never the stream.
    expect(mostAhead).toBeLessThanOrEqual(8);
  });

  it('drops a droppable branch that stops reading early, and the others get everything', async () => {
    const input = source(100);
    const full = fastSink();
    let seen = 0;
    const early = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        // Like pg_restore --list closing its stdin once it read the table of contents.
        if (seen >= 3 * CHUNK) callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        else callback();
      },
    });
    await pipeline(
      input.stream,
      new FanOut([
        { stream: full.stream, droppable: false },
        { stream: early, droppable: true },
      ]),
    );
    expect(full.bytes()).toBe(100 * CHUNK);
    expect(seen).toBe(3 * CHUNK);
  });

  it('fails, and stops the other branches, when a branch that may not be dropped fails', async () => {
    const input = source(100);
    const verifier = fastSink();
    const store = new Writable({
      write(_chunk: Buffer, _encoding, callback) {
        callback(input.produced() > 10 ? new Error('disk full') : null);
      },
    });
    await expect(
      pipeline(
        input.stream,
        new FanOut([
          { stream: store, droppable: false },
          { stream: verifier.stream, droppable: true },
        ]),
      ),
    ).rejects.toThrow('disk full');
    expect(input.produced()).toBeLessThan(100);
    expect(verifier.stream.destroyed).toBe(true);
    expect(verifier.stream.writableFinished).toBe(false);
  });
});

describe('the stored size check', () => {
  it('asks each store for the size of what it holds, without reading it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supagate-stored-size-'));
    const serviceKey = `service-role-${randomBytes(8).toString('hex')}`;
    const server = new FakeSupabaseStorageServer(serviceKey);
    await server.start();
    server.buckets.set('backups', { public: false });
    try {
      const body = randomBytes(200 * 1024);
      const stores = [
        new DirectoryStore(join(dir, 'directory')),
        new SupabaseStorageStore({
          url: server.url,
          serviceKey,
          bucket: 'backups',
          partSizeBytes: 64 * 1024,
        }),
        new ArtifactStore(async (_name, path) => ({ location: path }), { stagingDir: join(dir, 'staging') }),
      ];
      for (const store of stores) {
        const key = `20240101T000000000Z-${store.kind}.dump.enc`;
        const encrypted = Readable.from([body]).pipe(encryptStream(randomBytes(32).toString('hex')));
        await store.put(key, encrypted);
        const size = await store.size?.(key);
        expect(size).toBeGreaterThan(body.length);
        await checkStoredSize(store, key, size as number);
        const short = await rejection(checkStoredSize(store, key, (size as number) + 1));
        expect(short.code).toBe('BACKUP_UNVERIFIED');
        const missing = await rejection(checkStoredSize(store, 'nothing-here.dump.enc', 1));
        expect(missing.code).toBe('BACKUP_UNVERIFIED');
      }
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads back and counts what a store without size() holds', async () => {
    const chunks = [Buffer.alloc(1000), Buffer.alloc(234)];
    const store = {
      kind: 'custom',
      put: async () => ({ location: 'x' }),
      get: async () => Readable.from(chunks),
      list: async () => [],
      remove: async () => {},
    };
    await checkStoredSize(store, 'k.dump', 1234);
    expect((await rejection(checkStoredSize(store, 'k.dump', 1235))).message).toContain(
      'holds 1234 bytes under "k.dump", 1235 were written',
    );
  });
});
