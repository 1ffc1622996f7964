import { mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SupagateError } from '../errors.js';
import { ENCRYPTION_MAGIC, isEncryptedHeader } from './encryption.js';
import { assertStoreKey, type BackupStore, DirectoryStore } from './stores.js';

export type ArtifactUploader = (name: string, filePath: string) => Promise<{ location: string }>;

export interface ArtifactStoreOptions {
  /**
   * Upload backups that are not encrypted. Off by default: anyone with read access to the
   * repository can download a workflow run's artifacts.
   */
  allowUnencrypted?: boolean;
  /** Where files are staged before upload (and read back from within the run). Default: a new temp folder. */
  stagingDir?: string;
}

/**
 * GitHub Actions artifacts. Artifacts cannot be read back or deleted from the run that made
 * them through a stable API, so the store stages each file in a local folder, uploads it,
 * and answers get/list/remove from that folder (for verification within the same run);
 * `remove` cannot take back an artifact that was already uploaded.
 *
 * Refuses to upload a backup that is not encrypted (BACKUP_UNENCRYPTED_ARTIFACT) unless
 * `allowUnencrypted`: the content itself is checked for the encryption header. Manifests
 * (`*.manifest.json`: table names, row counts, policies, no rows) are uploaded as they are.
 */
export class ArtifactStore implements BackupStore {
  readonly kind = 'github-artifact';
  readonly requiresEncryption: boolean;
  readonly #uploader: ArtifactUploader;
  readonly #options: ArtifactStoreOptions;
  #staging: Promise<DirectoryStore> | undefined;

  constructor(uploader: ArtifactUploader, options: ArtifactStoreOptions = {}) {
    this.#uploader = uploader;
    this.#options = options;
    this.requiresEncryption = !options.allowUnencrypted;
  }

  #stage(): Promise<DirectoryStore> {
    this.#staging ??= (async () =>
      new DirectoryStore(
        this.#options.stagingDir ?? (await mkdtemp(join(tmpdir(), 'supagate-artifacts-'))),
      ))();
    return this.#staging;
  }

  async put(key: string, stream: Readable): Promise<{ location: string }> {
    assertStoreKey(key);
    const staging = await this.#stage();
    const { location: path } = await staging.put(key, stream);
    try {
      if (this.requiresEncryption && !key.endsWith('.manifest.json') && !(await startsEncrypted(path))) {
        throw new SupagateError(
          'BACKUP_UNENCRYPTED_ARTIFACT',
          `Refusing to upload "${key}" as a GitHub artifact unencrypted: anyone with read access to the repository can download artifacts`,
          {
            hint: "Set an encryption key (the Action's backup-key input, from a secret), or store backups elsewhere; allow-unencrypted-artifacts only for repositories whose readers may see production data.",
            details: { key },
          },
        );
      }
      return await this.#uploader(key, path);
    } catch (error) {
      await staging.remove(key);
      throw error;
    }
  }

  async get(key: string): Promise<Readable> {
    return (await this.#stage()).get(key);
  }

  async list(): Promise<string[]> {
    return (await this.#stage()).list();
  }

  async remove(key: string): Promise<void> {
    await (await this.#stage()).remove(key);
  }

  /** Of the staged copy, which is what was uploaded. */
  async size(key: string): Promise<number> {
    return (await this.#stage()).size(key);
  }
}

async function startsEncrypted(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(ENCRYPTION_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return isEncryptedHeader(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
