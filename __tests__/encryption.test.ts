import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackupKey,
  decryptStream,
  decryptToFile,
  ENCRYPTION_MAGIC,
  encryptStream,
  HEADER_BYTES,
} from '../src/core/backup/encryption.js';
import { SupagateError } from '../src/core/errors.js';
import { rejection } from './harness/errors.js';

const HEX_KEY = randomBytes(32).toString('hex');
// Cheap scrypt for tests; the default cost is exercised once below.
const FAST = { scrypt: { log2N: 12, r: 8, p: 1 } };

/** `total` random bytes in chunks of varying size, never held together; hashes what it produced. */
function randomSource(total: number): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(total - produced, 1 + Math.floor(Math.random() * 96 * 1024));
      const chunk = randomBytes(size);
      hash.update(chunk);
      produced += size;
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/** A sink that hashes and counts, keeping nothing. */
function hashingSink(): { stream: Writable; result: () => { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback();
    },
  });
  return { stream, result: () => ({ sha256: hash.digest('hex'), size }) };
}

async function encryptToBuffer(plain: Buffer, key: string | BackupKey): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from([plain]),
    encryptStream(key),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(chunks);
}

async function decryptToBuffer(cipher: Buffer, key: string | BackupKey): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // Small chunks, so the tag handling across chunk boundaries is exercised.
  const pieces: Buffer[] = [];
  for (let i = 0; i < cipher.length; i += 7) pieces.push(cipher.subarray(i, i + 7));
  await pipeline(
    Readable.from(pieces),
    decryptStream(key),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(chunks);
}

describe('backup encryption', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'supagate-enc-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a multi-megabyte stream without holding it whole', async () => {
    const total = 6 * 1024 * 1024 + 123;
    const source = randomSource(total);
    const sink = hashingSink();
    let largestChunk = 0;
    const watch = new Transform({
      transform(chunk: Buffer, _e, cb) {
        largestChunk = Math.max(largestChunk, chunk.length);
        cb(null, chunk);
      },
    });
    const key = BackupKey.parse(HEX_KEY);
    await pipeline(source.stream, encryptStream(key), watch, decryptStream(key), sink.stream);
    expect(sink.result()).toEqual({ sha256: source.sha256(), size: total });
    expect(largestChunk).toBeLessThan(1024 * 1024);
  });

  it('writes the documented format: magic, version, header, ciphertext, 16-byte tag', async () => {
    const plain = Buffer.from('hello, backup');
    const cipher = await encryptToBuffer(plain, HEX_KEY);
    expect(cipher.subarray(0, ENCRYPTION_MAGIC.length).toString('ascii')).toBe('SUPAGATE-ENC1');
    expect(cipher[ENCRYPTION_MAGIC.length]).toBe(1);
    expect(cipher.length).toBe(HEADER_BYTES + plain.length + 16);
    expect(cipher.includes(plain)).toBe(false);
    // A fresh IV every time.
    expect((await encryptToBuffer(plain, HEX_KEY)).equals(cipher)).toBe(false);
    expect(await decryptToBuffer(cipher, HEX_KEY)).toEqual(plain);
  });

  it('round-trips an empty stream', async () => {
    const cipher = await encryptToBuffer(Buffer.alloc(0), HEX_KEY);
    expect(cipher.length).toBe(HEADER_BYTES + 16);
    expect((await decryptToBuffer(cipher, HEX_KEY)).length).toBe(0);
  });

  it('fails with BACKUP_DECRYPT_FAILED on a wrong key, before emitting anything', async () => {
    const cipher = await encryptToBuffer(randomBytes(100_000), HEX_KEY);
    let emitted = 0;
    const error = await rejection(
      pipeline(
        Readable.from([cipher]),
        decryptStream(randomBytes(32).toString('hex')),
        new Writable({
          write(chunk: Buffer, _e, cb) {
            emitted += chunk.length;
            cb();
          },
        }),
      ),
    );
    expect(error.code).toBe('BACKUP_DECRYPT_FAILED');
    expect(error.message).toMatch(/key is wrong/);
    expect(emitted).toBe(0);
  });

  it('fails on a flipped byte in the ciphertext, the tag or the header', async () => {
    const cipher = await encryptToBuffer(randomBytes(50_000), HEX_KEY);
    for (const position of [
      HEADER_BYTES + 10,
      cipher.length - 20,
      cipher.length - 1,
      ENCRYPTION_MAGIC.length + 20,
    ]) {
      const altered = Buffer.from(cipher);
      altered[position] = (altered[position] as number) ^ 0x01;
      const error = await rejection(decryptToBuffer(altered, HEX_KEY));
      expect(error.code).toBe('BACKUP_DECRYPT_FAILED');
      expect(error.message).toMatch(/altered/);
    }
  });

  it('fails on a truncated file: mid-ciphertext, without its tag, inside the header', async () => {
    const cipher = await encryptToBuffer(randomBytes(50_000), HEX_KEY);
    for (const length of [
      cipher.length - 1,
      cipher.length - 16,
      HEADER_BYTES + 100,
      HEADER_BYTES + 5,
      20,
      0,
    ]) {
      const error = await rejection(decryptToBuffer(cipher.subarray(0, length), HEX_KEY));
      expect(error.code).toBe('BACKUP_DECRYPT_FAILED');
    }
  });

  it('refuses a file that is not encrypted', async () => {
    const error = await rejection(
      decryptToBuffer(Buffer.from('PGDMP not encrypted at all, a plain dump'), HEX_KEY),
    );
    expect(error.code).toBe('BACKUP_DECRYPT_FAILED');
    expect(error.message).toMatch(/SUPAGATE-ENC1/);
  });

  it('decryptToFile leaves no file, not even a partial one, when authentication fails', async () => {
    const plain = randomBytes(300_000);
    const cipher = await encryptToBuffer(plain, HEX_KEY);
    const good = join(dir, 'good.dump');
    await decryptToFile(Readable.from([cipher]), HEX_KEY, good);
    expect(await readFile(good)).toEqual(plain);

    const altered = Buffer.from(cipher);
    altered[HEADER_BYTES + 1000] = (altered[HEADER_BYTES + 1000] as number) ^ 0xff;
    const bad = join(dir, 'bad.dump');
    const before = await readdir(dir);
    const error = await rejection(decryptToFile(Readable.from([altered]), HEX_KEY, bad));
    expect(error.code).toBe('BACKUP_DECRYPT_FAILED');
    expect(await readdir(dir)).toEqual(before);
  });

  describe('keys', () => {
    it('reads 64 hex digits as the key itself', async () => {
      const key = BackupKey.parse(HEX_KEY.toUpperCase());
      expect(key.format).toBe('hex');
      const cipher = await encryptToBuffer(Buffer.from('x'), key);
      // Same bytes as base64: the same key.
      const base64 = Buffer.from(HEX_KEY, 'hex').toString('base64');
      expect((await decryptToBuffer(cipher, base64)).toString()).toBe('x');
    });

    it('reads base64 (standard and URL-safe) of 32 bytes as the key itself', async () => {
      const bytes = randomBytes(32);
      const standard = BackupKey.parse(bytes.toString('base64'));
      expect(standard.format).toBe('base64');
      const urlSafe = bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
      const cipher = await encryptToBuffer(Buffer.from('y'), standard);
      expect((await decryptToBuffer(cipher, urlSafe)).toString()).toBe('y');
      expect((await decryptToBuffer(cipher, bytes.toString('hex'))).toString()).toBe('y');
    });

    it('derives a key from a passphrase with scrypt and a per-file salt', async () => {
      const passphrase = 'correct horse battery staple';
      const key = BackupKey.parse(passphrase, FAST);
      expect(key.kind).toBe('passphrase');
      const a = await encryptToBuffer(Buffer.from('secret rows'), key);
      const b = await encryptToBuffer(Buffer.from('secret rows'), key);
      const salt = (file: Buffer) => file.subarray(ENCRYPTION_MAGIC.length + 5, ENCRYPTION_MAGIC.length + 21);
      expect(salt(a).equals(salt(b))).toBe(false);
      expect(salt(a).equals(Buffer.alloc(16))).toBe(false);
      // Decryption reads the cost from the header: the plain passphrase is enough.
      expect((await decryptToBuffer(a, passphrase)).toString()).toBe('secret rows');
      const wrong = await rejection(decryptToBuffer(a, 'correct horse battery stapler'));
      expect(wrong.code).toBe('BACKUP_DECRYPT_FAILED');
    });

    it('uses scrypt N=2^17 by default', async () => {
      const cipher = await encryptToBuffer(Buffer.from('z'), 'a long enough passphrase');
      expect(cipher[ENCRYPTION_MAGIC.length + 2]).toBe(17);
      expect((await decryptToBuffer(cipher, 'a long enough passphrase')).toString()).toBe('z');
    });

    it('says which kind of key a file needs when given the other kind', async () => {
      const cipher = await encryptToBuffer(Buffer.from('x'), HEX_KEY);
      const error = await rejection(decryptToBuffer(cipher, 'some passphrase of length'));
      expect(error.code).toBe('BACKUP_DECRYPT_FAILED');
      expect(error.message).toMatch(/32-byte key/);
    });

    it('refuses short and malformed keys with a clear error', () => {
      const cases: [string, RegExp][] = [
        ['', /empty/],
        ['short', /too short.*16 characters/],
        [HEX_KEY.slice(0, 62), /64/],
        [`${HEX_KEY}00`, /64/],
        [randomBytes(31).toString('base64'), /decodes to 31 bytes/],
      ];
      for (const [secret, message] of cases) {
        let error: unknown;
        try {
          BackupKey.parse(secret);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(SupagateError);
        expect((error as SupagateError).code).toBe('BACKUP_KEY_INVALID');
        expect((error as SupagateError).message).toMatch(message);
        expect((error as SupagateError).hint).toMatch(/openssl rand -hex 32/);
      }
    });

    it('never prints the key material', () => {
      const key = BackupKey.parse(HEX_KEY);
      expect(String(key)).not.toContain(HEX_KEY);
      expect(JSON.stringify({ key })).not.toContain(HEX_KEY);
      expect(inspect(key)).not.toContain(HEX_KEY);
      expect(inspect(key, { showHidden: true })).not.toContain(HEX_KEY.slice(0, 16));
    });
  });

  it('a file encrypted with one key decrypts to a file with the same key after a disk round trip', async () => {
    const plain = randomBytes(70_000);
    const path = join(dir, 'disk.enc');
    await writeFile(path, await encryptToBuffer(plain, HEX_KEY));
    const out = join(dir, 'disk.plain');
    await decryptToFile(Readable.from([await readFile(path)]), HEX_KEY, out);
    expect((await readFile(out)).equals(plain)).toBe(true);
  });
});
