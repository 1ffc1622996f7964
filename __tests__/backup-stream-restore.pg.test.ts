import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeBackup } from '../src/core/backup/backup.js';
import { DirectoryStore } from '../src/core/backup/stores.js';
import { restoreBackup } from '../src/core/restore/index.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/**
 * A TCP proxy that passes what the client sends slowly (a far server): the client's socket
 * fills, so every COPY chunk of a restore waits for it to drain, as it does against Supabase.
 */
async function slowProxy(databaseUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      client.pause();
      setTimeout(() => client.resume(), 5);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(typeof address === 'object' && address ? address.port : 0);
  return {
    url: url.toString(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('a restore of a table of many COPY chunks', () => {
  let db: TestDatabase;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'supagate-backup-stream-restore-'));
    db = await createTestDatabase();
    // About 27 MB of rows: some 100 COPY chunks of 256 kB; through the slow proxy, dozens wait for the socket to drain.
    await db.query(`create table public.wide as
      select g as id, repeat(md5(g::text), 3) as note from generate_series(1, 250000) g`);
  });

  afterAll(async () => {
    await db?.drop();
    await rm(work, { recursive: true, force: true });
  });

  it('emits no process warning (MaxListenersExceededWarning)', async () => {
    const store = new DirectoryStore(work);
    const proxy = await slowProxy(db.url);
    const manifest = await takeBackup({ dbUrl: proxy.url, store });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const result = await restoreBackup({ dbUrl: proxy.url, store, manifest });
      expect(result.ok).toBe(true);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
      await proxy.close();
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    const [row] = await db.query<{ n: number }>('select count(*)::int as n from public.wide');
    expect(row?.n).toBe(250000);
  });
});
