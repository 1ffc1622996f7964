import {
  type CipherGCM,
  createCipheriv,
  createDecipheriv,
  createHmac,
  type DecipherGCM,
  randomBytes,
  type ScryptOptions,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { inspect } from 'node:util';
import { SupagateError } from '../errors.js';
import { streamToNewFile } from '../new-file.js';

/**
 * Streaming AES-256-GCM for backups: constant memory whatever the size of the dump.
 *
 * File format (all integers one byte):
 *
 *     magic     13  "SUPAGATE-ENC1"
 *     version    1  1
 *     kdf        1  0 = raw 32-byte key, 1 = scrypt(passphrase, salt)
 *     log2 N     1  scrypt cost (0 for a raw key)
 *     r          1  scrypt block size (0 for a raw key)
 *     p          1  scrypt parallelism (0 for a raw key)
 *     salt      16  random per file (zeros for a raw key)
 *     iv        12  random per file
 *     key check 16  HMAC-SHA256(file key, "supagate backup key check"), first 16 bytes
 *     ciphertext …
 *     tag       16  GCM authentication tag
 *
 * The whole header is the GCM additional authenticated data, so no header byte can change
 * unnoticed either. The key check lets decryption say "wrong key" before reading any data;
 * it reveals nothing about the key (HMAC output) and also commits the file to one key.
 *
 * Keys, from one secret string (`parseBackupKey`):
 * - 64 hex characters: the 32-byte key itself (`openssl rand -hex 32`);
 * - base64 (standard or URL-safe) with its `=` padding that decodes to 32 bytes: the key
 *   itself (`openssl rand -base64 32`, 44 characters);
 * - anything else of at least 16 characters: a passphrase, stretched with scrypt
 *   (N = 2^17, r = 8, p = 1: 128 MiB, a fraction of a second) and a random 16-byte salt per
 *   file, stored in the header. A hex-only or base64-looking string of the wrong length is
 *   refused rather than silently taken for a passphrase: it is almost certainly a truncated key.
 * Surrounding whitespace (a trailing newline from a secrets file) is ignored.
 *
 * GCM authenticates only at the end: `decryptStream` emits plaintext that is unauthenticated
 * until the stream ends without error. Anything that acts on the plaintext must use
 * `decryptToFile`, which writes to a temporary name and renames only after the tag verified.
 */

export const ENCRYPTION_MAGIC = Buffer.from('SUPAGATE-ENC1', 'ascii');
const FORMAT_VERSION = 1;
const KDF_RAW = 0;
const KDF_SCRYPT = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const CHECK_BYTES = 16;
const TAG_BYTES = 16;
export const HEADER_BYTES = ENCRYPTION_MAGIC.length + 5 + SALT_BYTES + IV_BYTES + CHECK_BYTES;
const KEY_CHECK_LABEL = 'supagate backup key check';

/** Default scrypt cost for passphrases: N = 2^17, r = 8, p = 1 (OWASP's recommendation). */
export const DEFAULT_SCRYPT = { log2N: 17, r: 8, p: 1 } as const;
/** The costs a file may ask for: bounded, so a crafted header cannot demand gigabytes. */
const SCRYPT_LIMITS = { minLog2N: 10, maxLog2N: 20, maxR: 16, maxP: 4 };
const MIN_PASSPHRASE_LENGTH = 16;

export interface ScryptCost {
  log2N: number;
  r: number;
  p: number;
}

/**
 * A backup encryption key parsed from its secret. The key material is private and never
 * printed: `String(key)`, `JSON.stringify(key)` and `console.log(key)` show only its kind.
 */
export class BackupKey {
  readonly kind: 'raw' | 'passphrase';
  /** How the secret was read: `hex`, `base64` or `passphrase`. */
  readonly format: 'hex' | 'base64' | 'passphrase';
  readonly #raw: Buffer | undefined;
  readonly #passphrase: string | undefined;
  readonly #cost: ScryptCost;

  private constructor(format: BackupKey['format'], secret: Buffer | string, cost: ScryptCost) {
    this.format = format;
    this.kind = format === 'passphrase' ? 'passphrase' : 'raw';
    this.#raw = typeof secret === 'string' ? undefined : secret;
    this.#passphrase = typeof secret === 'string' ? secret : undefined;
    this.#cost = cost;
  }

  /** See the module comment for the accepted forms. Throws BACKUP_KEY_INVALID. */
  static parse(secret: string, options: { scrypt?: ScryptCost } = {}): BackupKey {
    const cost = options.scrypt ?? DEFAULT_SCRYPT;
    checkCost(cost, 'BACKUP_KEY_INVALID');
    const text = secret.trim();
    if (/^[0-9a-f]+$/i.test(text) && text.length >= 32) {
      if (text.length !== 64) {
        throw invalidKey(
          `The backup encryption key looks like a hex key but has ${text.length} hex digits; a hex key has 64 (32 bytes).`,
        );
      }
      return new BackupKey('hex', Buffer.from(text, 'hex'), cost);
    }
    // Base64 of 32 bytes is 44 characters ending in one `=`; padding marks base64 for sure.
    if (/^[A-Za-z0-9+/_-]+={1,2}$/.test(text) && text.length % 4 === 0) {
      const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (bytes.length !== 32) {
        throw invalidKey(
          `The backup encryption key looks like base64 but decodes to ${bytes.length} bytes; a base64 key decodes to 32.`,
        );
      }
      return new BackupKey('base64', bytes, cost);
    }
    if (text.length < MIN_PASSPHRASE_LENGTH) {
      throw invalidKey(
        text.length === 0
          ? 'The backup encryption key is empty.'
          : `The backup encryption key is too short: a passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters (it has ${text.length}).`,
      );
    }
    return new BackupKey('passphrase', text, cost);
  }

  /** The file key for a header's parameters. */
  async fileKey(kdf: number, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
    if (kdf === KDF_RAW) {
      if (!this.#raw) {
        throw decryptFailed(
          'This backup was encrypted with a 32-byte key (hex or base64), but the key given is a passphrase.',
        );
      }
      return this.#raw;
    }
    if (!this.#passphrase) {
      throw decryptFailed(
        'This backup was encrypted with a passphrase, but the key given is a 32-byte key (hex or base64).',
      );
    }
    return deriveScrypt(this.#passphrase, salt, cost);
  }

  /** Header parameters for a new file. */
  newFileParameters(): { kdf: number; salt: Buffer; cost: ScryptCost } {
    if (this.kind === 'raw')
      return { kdf: KDF_RAW, salt: Buffer.alloc(SALT_BYTES), cost: { log2N: 0, r: 0, p: 0 } };
    return { kdf: KDF_SCRYPT, salt: randomBytes(SALT_BYTES), cost: this.#cost };
  }

  toString(): string {
    return `[BackupKey ${this.format}]`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** A key from its secret, or the key itself. */
export function parseBackupKey(secret: string | BackupKey): BackupKey {
  return typeof secret === 'string' ? BackupKey.parse(secret) : secret;
}

function deriveScrypt(passphrase: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 128 * N * cost.r * 2 + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize('NFC'), salt, 32, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

function checkCost(cost: ScryptCost, code: 'BACKUP_KEY_INVALID' | 'BACKUP_DECRYPT_FAILED'): void {
  const ok =
    Number.isInteger(cost.log2N) &&
    cost.log2N >= SCRYPT_LIMITS.minLog2N &&
    cost.log2N <= SCRYPT_LIMITS.maxLog2N &&
    Number.isInteger(cost.r) &&
    cost.r >= 1 &&
    cost.r <= SCRYPT_LIMITS.maxR &&
    Number.isInteger(cost.p) &&
    cost.p >= 1 &&
    cost.p <= SCRYPT_LIMITS.maxP;
  if (ok) return;
  const message = `scrypt parameters out of range (log2 N ${cost.log2N}, r ${cost.r}, p ${cost.p})`;
  if (code === 'BACKUP_KEY_INVALID') throw invalidKey(`Invalid ${message}.`);
  throw decryptFailed(
    `The backup's header asks for ${message}: the file was altered or is not a supagate backup.`,
  );
}

function keyCheck(fileKey: Buffer): Buffer {
  return createHmac('sha256', fileKey).update(KEY_CHECK_LABEL).digest().subarray(0, CHECK_BYTES);
}

function buildHeader(kdf: number, cost: ScryptCost, salt: Buffer, iv: Buffer, check: Buffer): Buffer {
  return Buffer.concat([
    ENCRYPTION_MAGIC,
    Buffer.from([FORMAT_VERSION, kdf, cost.log2N, cost.r, cost.p]),
    salt,
    iv,
    check,
  ]);
}

/** Whether bytes start like a supagate encrypted file. */
export function isEncryptedHeader(bytes: Buffer): boolean {
  return (
    bytes.length >= ENCRYPTION_MAGIC.length &&
    bytes.subarray(0, ENCRYPTION_MAGIC.length).equals(ENCRYPTION_MAGIC)
  );
}

/** Plaintext in, `header ‖ ciphertext ‖ tag` out. */
export function encryptStream(key: string | BackupKey): Transform {
  return new EncryptTransform(parseBackupKey(key));
}

/**
 * `header ‖ ciphertext ‖ tag` in, plaintext out. Fails with BACKUP_DECRYPT_FAILED on a wrong
 * key (before any output), and on an altered or truncated file (at the end, after output:
 * see `decryptToFile` for consumers that must not see unauthenticated plaintext).
 */
export function decryptStream(key: string | BackupKey): Transform {
  return new DecryptTransform(parseBackupKey(key));
}

class EncryptTransform extends Transform {
  readonly #key: BackupKey;
  #cipher: CipherGCM | undefined;

  constructor(key: BackupKey) {
    super();
    this.#key = key;
  }

  async #start(): Promise<CipherGCM> {
    if (this.#cipher) return this.#cipher;
    const { kdf, salt, cost } = this.#key.newFileParameters();
    const fileKey = await this.#key.fileKey(kdf, salt, cost);
    const iv = randomBytes(IV_BYTES);
    const header = buildHeader(kdf, cost, salt, iv, keyCheck(fileKey));
    const cipher = createCipheriv('aes-256-gcm', fileKey, iv);
    cipher.setAAD(header);
    this.push(header);
    this.#cipher = cipher;
    return cipher;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#start().then(
      (cipher) => callback(null, cipher.update(chunk)),
      (error: unknown) => callback(error as Error),
    );
  }

  override _flush(callback: TransformCallback): void {
    this.#start().then(
      (cipher) => {
        const last = cipher.final();
        if (last.length > 0) this.push(last);
        this.push(cipher.getAuthTag());
        callback();
      },
      (error: unknown) => callback(error as Error),
    );
  }
}

class DecryptTransform extends Transform {
  readonly #key: BackupKey;
  #header: Buffer = Buffer.alloc(0);
  #decipher: DecipherGCM | undefined;
  /** The last TAG_BYTES seen: the tag, once the input ends. */
  #tail: Buffer = Buffer.alloc(0);

  constructor(key: BackupKey) {
    super();
    this.#key = key;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#consume(chunk).then(
      () => callback(),
      (error: unknown) => callback(error as Error),
    );
  }

  async #consume(chunk: Buffer): Promise<void> {
    let data = chunk;
    if (!this.#decipher) {
      const needed = HEADER_BYTES - this.#header.length;
      this.#header = Buffer.concat([this.#header, data.subarray(0, needed)]);
      data = data.subarray(needed);
      if (this.#header.length < HEADER_BYTES) {
        // Refuse a file that is not ours as soon as the magic can be compared.
        const seen = Math.min(this.#header.length, ENCRYPTION_MAGIC.length);
        if (!this.#header.subarray(0, seen).equals(ENCRYPTION_MAGIC.subarray(0, seen))) throw notEncrypted();
        return;
      }
      this.#decipher = await this.#open(this.#header);
    }
    if (data.length === 0) return;
    const joined = this.#tail.length > 0 ? Buffer.concat([this.#tail, data]) : data;
    if (joined.length <= TAG_BYTES) {
      this.#tail = Buffer.from(joined);
      return;
    }
    const cut = joined.length - TAG_BYTES;
    this.#tail = Buffer.from(joined.subarray(cut));
    this.push(this.#decipher.update(joined.subarray(0, cut)));
  }

  async #open(header: Buffer): Promise<DecipherGCM> {
    if (!isEncryptedHeader(header)) throw notEncrypted();
    let offset = ENCRYPTION_MAGIC.length;
    const version = header[offset++] as number;
    if (version !== FORMAT_VERSION) {
      throw decryptFailed(
        `This backup uses encryption format version ${version}; this supagate reads version ${FORMAT_VERSION}. Use a newer supagate, or the file was altered.`,
      );
    }
    const kdf = header[offset++] as number;
    const cost = {
      log2N: header[offset++] as number,
      r: header[offset++] as number,
      p: header[offset++] as number,
    };
    const salt = header.subarray(offset, offset + SALT_BYTES);
    offset += SALT_BYTES;
    const iv = header.subarray(offset, offset + IV_BYTES);
    offset += IV_BYTES;
    const check = header.subarray(offset, offset + CHECK_BYTES);
    if (kdf === KDF_SCRYPT) checkCost(cost, 'BACKUP_DECRYPT_FAILED');
    else if (kdf !== KDF_RAW)
      throw decryptFailed(`Unknown key derivation ${kdf} in the backup's header: the file was altered.`);
    const fileKey = await this.#key.fileKey(kdf, salt, cost);
    if (!timingSafeEqual(keyCheck(fileKey), check)) {
      throw decryptFailed(
        'Could not decrypt the backup: the key is wrong (it does not match the key this backup was encrypted with), or the file was altered.',
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', fileKey, iv);
    decipher.setAAD(header);
    return decipher;
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#decipher || this.#tail.length < TAG_BYTES) {
      callback(
        decryptFailed(
          'Could not decrypt the backup: the file is truncated (it ends before its authentication tag). The key is wrong or the file was altered.',
        ),
      );
      return;
    }
    try {
      this.#decipher.setAuthTag(this.#tail);
      const last = this.#decipher.final();
      callback(null, last.length > 0 ? last : undefined);
    } catch (error) {
      callback(
        decryptFailed(
          'Could not decrypt the backup: authentication failed. The key is wrong or the file was altered or truncated; nothing decrypted from it can be trusted.',
          error,
        ),
      );
    }
  }
}

/**
 * Decrypts `source` into `destination`, which appears only once the authentication tag
 * verified: the plaintext goes to a temporary file beside it (mode 0600) that is renamed on
 * success and removed on any failure.
 */
export async function decryptToFile(
  source: Readable,
  key: string | BackupKey,
  destination: string,
  options: {
    /** Streams the ciphertext passes through before decryption (hashing, counting). */
    through?: Transform[];
  } = {},
): Promise<void> {
  const temporary = join(
    dirname(destination),
    `.${basename(destination)}.${randomBytes(6).toString('hex')}.partial`,
  );
  await streamToNewFile(source, temporary, [...(options.through ?? []), decryptStream(key)]);
  try {
    await rename(temporary, destination);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function notEncrypted(): SupagateError {
  return decryptFailed(
    'This file is not a supagate encrypted backup (it does not start with SUPAGATE-ENC1): it was altered, or it was stored unencrypted.',
  );
}

function decryptFailed(message: string, cause?: unknown): SupagateError {
  return new SupagateError('BACKUP_DECRYPT_FAILED', message, {
    hint: 'Use the encryption key the backup was taken with (SUPAGATE_BACKUP_KEY at the time). If the key is right, the stored file was altered or damaged: use another backup.',
    ...(cause === undefined ? {} : { cause }),
  });
}

function invalidKey(message: string): SupagateError {
  return new SupagateError('BACKUP_KEY_INVALID', message, {
    hint: 'Use 32 random bytes as 64 hex digits (`openssl rand -hex 32`) or base64 (`openssl rand -base64 32`), or a passphrase of at least 16 characters.',
  });
}
