import { dirname } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { HttpClient } from '@actions/http-client';
import { Parse as parseZip, type Entry as ZipEntry } from 'unzip-stream';
import {
  ArtifactStore,
  type ArtifactUploader,
  assertStoreKey,
  type BackupStore,
} from '../core/backup/stores.js';
import { redact, registerSecret } from '../core/db/redact.js';
import { isSupagateError, SupagateError } from '../core/errors.js';
import { createOctokit, type Octokit } from './client.js';
import { github, statusOf, toGitHubError } from './errors.js';

/**
 * Backups as GitHub Actions artifacts that later runs can read: each store key is uploaded
 * as its own artifact, `supagate-backup-<key>`, holding one file named after the key.
 * Uploads go through @actions/artifact (the runner's results service); reads go through the
 * REST API, so any later run of the repository with `actions: read` finds them until they
 * expire.
 */

export const ARTIFACT_PREFIX = 'supagate-backup-';

/** The artifact that holds a store key. Keys are already safe artifact names (assertStoreKey). */
export function artifactName(key: string): string {
  assertStoreKey(key);
  return `${ARTIFACT_PREFIX}${key}`;
}

export interface ArtifactUploaderOptions {
  /** Days GitHub keeps the artifact; default the repository's setting, and never more than it. */
  retentionDays?: number;
}

/** Uploads one file as an artifact named `name`, through the runner's artifact service. */
export function createArtifactUploader(options: ArtifactUploaderOptions = {}): ArtifactUploader {
  const { retentionDays } = options;
  if (retentionDays !== undefined && (!Number.isInteger(retentionDays) || retentionDays < 1)) {
    throw new SupagateError('CONFIG_INVALID', `Invalid artifact retention of ${retentionDays} days`, {
      hint: 'Use a whole number of days, at least 1 (GitHub caps it at the repository’s artifact retention).',
    });
  }
  return async (name, filePath) => {
    try {
      // Loaded on first upload only: it brings the Azure storage SDK along.
      const { DefaultArtifactClient } = await import('@actions/artifact');
      const { id } = await new DefaultArtifactClient().uploadArtifact(name, [filePath], dirname(filePath), {
        ...(retentionDays === undefined ? {} : { retentionDays }),
        // Backups are encrypted before they get here: compressing ciphertext is wasted work.
        compressionLevel: 0,
      });
      return { location: describeUpload(name, id) };
    } catch (error) {
      throw uploadFailed(name, error);
    }
  };
}

function describeUpload(name: string, id: number | undefined): string {
  const run = process.env.GITHUB_RUN_ID;
  const repository = process.env.GITHUB_REPOSITORY;
  const server = (process.env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  const where = `artifact ${name}${id === undefined ? '' : ` (id ${id})`}${run ? ` of run ${run}` : ''}`;
  return run && repository && id !== undefined
    ? `${where}: ${server}/${repository}/actions/runs/${run}/artifacts/${id}`
    : where;
}

function uploadFailed(name: string, error: unknown): SupagateError {
  if (isSupagateError(error)) return error;
  const message = scrub(error instanceof Error ? error.message : String(error));
  let hint: string;
  if (/ACTIONS_RUNTIME_TOKEN|ACTIONS_RESULTS_URL|JWT/.test(message)) {
    hint =
      'The github-artifact backup store works only inside a GitHub Actions job, run as the Action (`uses:`): the runner gives actions ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, but not `run:` steps. Elsewhere, choose the directory or supabase-storage store.';
  } else if (/GHES|not currently supported/i.test(message)) {
    hint =
      'GitHub Enterprise Server does not offer the artifact service @actions/artifact 2+ needs: choose the directory or supabase-storage backup store.';
  } else if (/quota/i.test(message)) {
    hint =
      'The account’s artifact storage quota is used up: delete old artifacts, lower retention, or store backups elsewhere.';
  } else {
    hint =
      'The Actions artifact service failed: re-run the job. Self-hosted runners need access to the results service and blob storage endpoints.';
  }
  return new SupagateError('BACKUP_STORE_FAILED', `Uploading artifact "${name}" failed: ${message}`, {
    hint,
    details: { artifact: name, store: 'github-artifact' },
    cause: error,
  });
}

/** Signed storage URLs carry their credential in `sig`. */
function scrub(message: string): string {
  return redact(message).replace(/([?&]sig=)[^&\s"']+/gi, '$1***');
}

export interface GitHubArtifactStoreOptions {
  /** A token that can read the repository's artifacts (`actions: read`); GITHUB_TOKEN will do. */
  token: string;
  owner: string;
  repo: string;
  /** REST API root; default GITHUB_API_URL, else https://api.github.com. */
  apiUrl?: string;
  retentionDays?: number;
  /** Upload dumps that are not encrypted (see ArtifactStore). */
  allowUnencrypted?: boolean;
  /** Default: createArtifactUploader({ retentionDays }). Called with the artifact name. */
  uploader?: ArtifactUploader;
  /** Where this run stages files; default a new temporary folder. */
  stagingDir?: string;
}

type RestArtifact = Awaited<
  ReturnType<Octokit['rest']['actions']['listArtifactsForRepo']>
>['data']['artifacts'][number];

/**
 * GitHub Actions artifacts as a backup store that outlives the run. Writes go through the core
 * ArtifactStore (staging, and its refusal of unencrypted dumps); reads answer from this run's
 * staging first, then from the repository's unexpired artifacts.
 */
export class GitHubArtifactStore implements BackupStore {
  readonly kind = 'github-artifact';
  readonly requiresEncryption: boolean;
  readonly owner: string;
  readonly repo: string;
  readonly #staged: ArtifactStore;
  readonly #octokit: Octokit;

  constructor(options: GitHubArtifactStoreOptions) {
    registerSecret(options.token);
    this.owner = options.owner;
    this.repo = options.repo;
    this.#octokit = createOctokit(
      options.token,
      options.apiUrl === undefined ? {} : { baseUrl: options.apiUrl },
    );
    const upload =
      options.uploader ??
      createArtifactUploader(
        options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays },
      );
    this.#staged = new ArtifactStore((key, path) => upload(artifactName(key), path), {
      ...(options.allowUnencrypted === undefined ? {} : { allowUnencrypted: options.allowUnencrypted }),
      ...(options.stagingDir === undefined ? {} : { stagingDir: options.stagingDir }),
    });
    this.requiresEncryption = this.#staged.requiresEncryption;
  }

  put(key: string, stream: Readable): Promise<{ location: string }> {
    return this.#staged.put(key, stream);
  }

  async get(key: string): Promise<Readable> {
    const name = artifactName(key);
    try {
      return await this.#staged.get(key);
    } catch (error) {
      if (!isSupagateError(error) || error.code !== 'BACKUP_NOT_FOUND') throw error;
    }
    const found = await this.#artifacts(name);
    const artifact = found
      .filter((a) => a.name === name && !a.expired)
      .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? '') || b.id - a.id)[0];
    if (!artifact) throw this.#notFound(key, name, found);
    return this.#download(artifact, key);
  }

  async list(): Promise<string[]> {
    const keys = new Set(await this.#staged.list());
    for (const artifact of await this.#artifacts()) {
      if (artifact.expired || !artifact.name.startsWith(ARTIFACT_PREFIX)) continue;
      const key = artifact.name.slice(ARTIFACT_PREFIX.length);
      if (isStoreKey(key)) keys.add(key);
    }
    return [...keys].sort();
  }

  /** This run's staged copy only: an uploaded artifact stays until it expires (deleting needs `actions: write`). */
  async remove(key: string): Promise<void> {
    await this.#staged.remove(key);
  }

  /** The repository's artifacts, all pages; only those named `name` when given. */
  async #artifacts(name?: string): Promise<RestArtifact[]> {
    return github(
      {
        what: name
          ? `find artifact "${name}" in ${this.owner}/${this.repo}`
          : `list the artifacts of ${this.owner}/${this.repo}`,
        permission: 'actions: read',
      },
      () =>
        this.#octokit.paginate(this.#octokit.rest.actions.listArtifactsForRepo, {
          owner: this.owner,
          repo: this.repo,
          per_page: 100,
          ...(name ? { name } : {}),
        }),
    );
  }

  #notFound(key: string, name: string, found: RestArtifact[]): SupagateError {
    const expired = found.filter((a) => a.name === name && a.expired);
    const newest = expired
      .map((a) => a.expires_at ?? '')
      .sort()
      .at(-1);
    return new SupagateError(
      'BACKUP_NOT_FOUND',
      `No backup file "${key}" in the github-artifact store: ${
        expired.length > 0
          ? `artifact "${name}" in ${this.owner}/${this.repo} has expired${newest ? ` (${newest})` : ''}`
          : `no artifact "${name}" in ${this.owner}/${this.repo}`
      }`,
      {
        hint: 'Artifacts expire after their retention period (retention-days, capped by the repository’s artifact retention setting), and reading artifacts of other runs needs `permissions: { actions: read }`. List the backups that exist with listBackups.',
        details: { key, artifact: name, store: this.kind },
      },
    );
  }

  async #download(artifact: RestArtifact, key: string): Promise<Readable> {
    const what = `download artifact "${artifact.name}" (id ${artifact.id}) of ${this.owner}/${this.repo}`;
    let location: string | undefined;
    try {
      const response = await this.#octokit.rest.actions.downloadArtifact({
        owner: this.owner,
        repo: this.repo,
        artifact_id: artifact.id,
        archive_format: 'zip',
        // The redirect goes to blob storage, which must not receive the GitHub token.
        request: { redirect: 'manual' },
      });
      location = response.headers.location;
    } catch (error) {
      // 410: it expired between listing and downloading.
      if (statusOf(error) === 410) throw this.#notFound(key, artifact.name, [{ ...artifact, expired: true }]);
      throw toGitHubError(error, { what, permission: 'actions: read' });
    }
    if (!location) {
      throw new SupagateError(
        'BACKUP_STORE_FAILED',
        `GitHub did not redirect to the content when asked to ${what}`,
        {
          details: { artifact: artifact.name, store: this.kind },
        },
      );
    }
    const failed = (why: string, cause?: unknown) =>
      new SupagateError('BACKUP_STORE_FAILED', `Could not ${what}: ${scrub(why)}`, {
        hint: 'Re-run the job; self-hosted runners need access to GitHub’s artifact blob storage.',
        details: { artifact: artifact.name, store: this.kind },
        ...(cause === undefined ? {} : { cause }),
      });
    let body: Readable;
    try {
      const response = await new HttpClient('supagate').get(location);
      const status = response.message.statusCode ?? 0;
      if (status !== 200) {
        response.message.resume();
        throw failed(`blob storage answered HTTP ${status}`);
      }
      body = response.message;
    } catch (error) {
      if (isSupagateError(error)) throw error;
      throw failed(error instanceof Error ? error.message : String(error), error);
    }
    return extractFile(body, key, (why, cause) => failed(why, cause));
  }
}

function isStoreKey(key: string): boolean {
  try {
    assertStoreKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Streams the one file named `fileName` out of a zip as it downloads. Resolves once the entry
 * is found (so a wrong archive fails here, not halfway through a restore); later failures of
 * the download or the archive reach the returned stream as errors.
 */
function extractFile(
  zip: Readable,
  fileName: string,
  failed: (why: string, cause?: unknown) => SupagateError,
): Promise<Readable> {
  return new Promise((resolve, reject) => {
    const parser = parseZip();
    const output = new PassThrough();
    let found = false;
    const fail = (error: unknown) => {
      const wrapped = failed(error instanceof Error ? error.message : String(error), error);
      zip.destroy();
      if (found) output.destroy(wrapped);
      else reject(wrapped);
    };
    parser.on('entry', (entry: ZipEntry) => {
      if (!found && entry.type === 'File' && entry.path.replace(/^\/+/, '') === fileName) {
        found = true;
        entry.on('error', fail);
        entry.pipe(output);
        resolve(output);
      } else {
        entry.autodrain();
      }
    });
    parser.on('error', fail);
    zip.on('error', fail);
    parser.on('finish', () => {
      if (!found) fail(new Error(`the archive holds no file "${fileName}"`));
    });
    // A reader that stops early (or fails) should not leave the download open.
    output.on('close', () => {
      if (!output.readableEnded) zip.destroy();
    });
    zip.pipe(parser);
  });
}
