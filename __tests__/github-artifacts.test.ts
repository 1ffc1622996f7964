import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listBackups, readManifest } from '../src/core/backup/backup.js';
import { ENCRYPTION_MAGIC } from '../src/core/backup/encryption.js';
import { dumpKey, manifestKey, newBackupId } from '../src/core/backup/manifest.js';
import {
  ARTIFACT_PREFIX,
  artifactName,
  createArtifactUploader,
  GitHubArtifactStore,
  type GitHubArtifactStoreOptions,
} from '../src/github/artifacts.js';
import { rejection } from './harness/errors.js';
import { FakeGitHubApi } from './harness/github-api.js';

const ENV = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RESULTS_URL',
  'GITHUB_API_URL',
  'GITHUB_RUN_ID',
  'GITHUB_REPOSITORY',
  'GITHUB_SERVER_URL',
  'GITHUB_RETENTION_DAYS',
] as const;

let api: FakeGitHubApi;
let savedEnv: Record<string, string | undefined>;

beforeAll(async () => {
  api = await FakeGitHubApi.start();
});
afterAll(async () => {
  await api.close();
});
beforeEach(() => {
  api.reset();
  savedEnv = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));
});
afterEach(() => {
  for (const name of ENV) {
    const value = savedEnv[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** The environment the runner gives an action in workflow run `runId`. */
function inRun(runId: number): void {
  process.env.ACTIONS_RUNTIME_TOKEN = api.artifacts.runtimeToken(runId);
  process.env.ACTIONS_RESULTS_URL = `${api.url}/`;
  process.env.GITHUB_API_URL = api.url;
  process.env.GITHUB_RUN_ID = String(runId);
  process.env.GITHUB_REPOSITORY = 'acme/app';
  process.env.GITHUB_SERVER_URL = 'https://github.com';
  delete process.env.GITHUB_RETENTION_DAYS;
}

function store(options: Partial<GitHubArtifactStoreOptions> = {}): GitHubArtifactStore {
  return new GitHubArtifactStore({
    token: 'test-token',
    owner: 'acme',
    repo: 'app',
    apiUrl: api.url,
    ...options,
  });
}

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const serviceRequests = () => api.requests.filter((r) => /^\/(twirp|blob)\//.test(r.path));

/** Starts like a supagate encrypted file; the zip data-descriptor signature inside, to trip naive parsers. */
function encryptedLooking(size: number): Buffer {
  const body = randomBytes(size);
  Buffer.from([0x50, 0x4b, 0x07, 0x08]).copy(body, 1000);
  return Buffer.concat([ENCRYPTION_MAGIC, body]);
}

function manifestFor(id: string, dump: Buffer): Buffer {
  return Buffer.from(
    JSON.stringify({
      formatVersion: 1,
      id,
      createdAt: new Date().toISOString(),
      sha256: 'f'.repeat(64),
      sizeBytes: dump.length,
      encryption: 'aes-256-gcm',
      location: { store: 'github-artifact', key: dumpKey(id, true), location: '' },
    }),
  );
}

describe('artifactName', () => {
  it('prefixes the key and refuses what is not a key', () => {
    expect(artifactName('20240501T120000123Z-1a2b3c4d.dump.enc')).toBe(
      'supagate-backup-20240501T120000123Z-1a2b3c4d.dump.enc',
    );
    expect(() => artifactName('../x')).toThrow(/Invalid backup store key/);
    expect(() => artifactName('a/b')).toThrow(/Invalid backup store key/);
  });
});

describe('GitHubArtifactStore', () => {
  it('uploads in one run and reads back, byte for byte, in a later run', async () => {
    const id = newBackupId();
    const dump = encryptedLooking(1024 * 1024);
    const manifest = manifestFor(id, dump);

    inRun(101);
    const first = store({ retentionDays: 7 });
    expect(first.kind).toBe('github-artifact');
    expect(first.requiresEncryption).toBe(true);
    const put = await first.put(dumpKey(id, true), ReadableStream.from([dump]));
    await first.put(manifestKey(id), ReadableStream.from([manifest]));

    const uploaded = api.artifacts.finalized({ runId: 101 });
    expect(uploaded.map((a) => a.name).sort()).toEqual(
      [artifactName(dumpKey(id, true)), artifactName(manifestKey(id))].sort(),
    );
    const dumpArtifact = uploaded.find((a) => a.name === artifactName(dumpKey(id, true)));
    expect(put.location).toBe(
      `artifact ${artifactName(dumpKey(id, true))} (id ${dumpArtifact?.id}) of run 101: https://github.com/acme/app/actions/runs/101/artifacts/${dumpArtifact?.id}`,
    );
    // The retention asked for, as the expiry sent with CreateArtifact.
    const days =
      (Date.parse(dumpArtifact?.expiresAt ?? '') - Date.parse(dumpArtifact?.createdAt ?? '')) / 86_400_000;
    expect(Math.round(days)).toBe(7);
    const creates = api.requestsTo(
      'POST',
      '/twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact',
    );
    expect(creates).toHaveLength(2);
    expect(creates[0]?.headers.authorization).toBe('Bearer ***');
    expect(creates[0]?.body).toMatchObject({ mime_type: 'application/zip', version: 7 });
    const blobWrites = api.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/blob/'));
    expect(blobWrites.length).toBeGreaterThan(0);
    expect(blobWrites.every((r) => r.headers.authorization === undefined && r.status === 201)).toBe(true);
    // Compression level 0: the zip is hardly larger than what it holds.
    expect(dumpArtifact?.size).toBeLessThan(dump.length + 1024);

    inRun(102);
    api.requests.length = 0;
    const later = store();
    expect(await later.list()).toEqual([dumpKey(id, true), manifestKey(id)].sort());
    expect((await read(await later.get(dumpKey(id, true)))).equals(dump)).toBe(true);
    expect((await read(await later.get(manifestKey(id)))).equals(manifest)).toBe(true);
    expect((await readManifest(later, id)).id).toBe(id);
    expect((await listBackups(later)).map((m) => m.id)).toEqual([id]);

    const downloads = api.requestsTo('GET', `/repos/acme/app/actions/artifacts/${dumpArtifact?.id}/zip`);
    expect(downloads[0]?.status).toBe(302);
    const blobReads = api.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/blob/'));
    expect(blobReads.length).toBeGreaterThan(0);
    expect(blobReads.every((r) => r.headers.authorization === undefined && r.status === 200)).toBe(true);
    expect(serviceRequests().filter((r) => r.path.startsWith('/twirp/'))).toEqual([]);
  });

  it('answers from this run’s staging without asking GitHub', async () => {
    inRun(103);
    const s = store();
    const dump = encryptedLooking(2048);
    await s.put('a.dump.enc', ReadableStream.from([dump]));
    api.requests.length = 0;
    expect((await read(await s.get('a.dump.enc'))).equals(dump)).toBe(true);
    expect(api.requests).toEqual([]);
    await s.remove('a.dump.enc');
    // Removing takes back the staged copy only; the artifact stays.
    expect(await s.list()).toEqual(['a.dump.enc']);
    expect((await read(await s.get('a.dump.enc'))).equals(dump)).toBe(true);
  });

  it('refuses an unencrypted dump and uploads nothing', async () => {
    inRun(104);
    const s = store();
    const error = await rejection(s.put('b.dump', ReadableStream.from([Buffer.from('PGDMP plain dump')])));
    expect(error.code).toBe('BACKUP_UNENCRYPTED_ARTIFACT');
    expect(serviceRequests()).toEqual([]);
    expect(api.artifacts.artifacts).toEqual([]);
    expect(await s.list()).toEqual([]);

    const allowing = store({ allowUnencrypted: true });
    expect(allowing.requiresEncryption).toBe(false);
    await allowing.put('b.dump', ReadableStream.from([Buffer.from('PGDMP plain dump')]));
    expect(api.artifacts.finalized().map((a) => a.name)).toEqual([artifactName('b.dump')]);
  });

  it('ignores expired artifacts and reads the newest unexpired one', async () => {
    const day = 86_400_000;
    const at = (daysAgo: number) => new Date(Date.now() - daysAgo * day);
    const seed = (key: string, content: string, runId: number, daysAgo: number, expired = false) =>
      api.artifacts.seedArtifact({
        name: artifactName(key),
        files: { [key]: content },
        runId,
        createdAt: at(daysAgo),
        expired,
      });
    seed('gone.dump.enc', 'expired', 50, 30, true);
    seed('kept.dump.enc', 'kept', 51, 20);
    seed('both.dump.enc', 'older, unexpired', 40, 25);
    seed('both.dump.enc', 'newer, expired', 60, 5, true);
    seed('twice.dump.enc', 'first', 41, 10);
    seed('twice.dump.enc', 'second', 61, 2);
    api.artifacts.seedArtifact({ name: 'coverage-report', files: { 'lcov.info': 'x' }, runId: 61 });

    inRun(200);
    const s = store();
    expect(await s.list()).toEqual(['both.dump.enc', 'kept.dump.enc', 'twice.dump.enc']);
    expect((await read(await s.get('both.dump.enc'))).toString()).toBe('older, unexpired');
    expect((await read(await s.get('twice.dump.enc'))).toString()).toBe('second');
    const gone = await rejection(s.get('gone.dump.enc'));
    expect(gone.code).toBe('BACKUP_NOT_FOUND');
    expect(gone.message).toContain('supagate-backup-gone.dump.enc');
    expect(gone.message).toContain('expired');
    // Expired artifacts are never downloaded.
    expect(api.requests.filter((r) => r.path.endsWith('/zip')).map((r) => r.status)).toEqual([302, 302]);
  });

  it('says which artifact is missing, and why it may be', async () => {
    inRun(300);
    const error = await rejection(store().get('20240101T000000000Z-00000000.manifest.json'));
    expect(error.code).toBe('BACKUP_NOT_FOUND');
    expect(error.message).toContain('supagate-backup-20240101T000000000Z-00000000.manifest.json');
    expect(error.hint).toMatch(/expire/);
    expect(error.hint).toContain('actions: read');
    const [lookup] = api.requestsTo('GET', '/repos/acme/app/actions/artifacts');
    expect(lookup?.query.name).toBe('supagate-backup-20240101T000000000Z-00000000.manifest.json');
  });

  it('names the missing `actions: read` permission on a 403', async () => {
    inRun(301);
    api.fail({
      method: 'GET',
      path: '/repos/acme/app/actions/artifacts',
      status: 403,
      message: 'Resource not accessible by integration',
    });
    // One at a time: a second promise rejecting while the first is awaited would go unhandled.
    for (const attempt of [() => store().list(), () => store().get('x.dump.enc')]) {
      const error = await rejection(attempt());
      expect(error.code).toBe('GITHUB_FORBIDDEN');
      expect(`${error.message} ${error.hint}`).toContain('actions: read');
    }
  });

  it('follows every page of the repository’s artifacts', async () => {
    for (let n = 0; n < 105; n++) {
      const key = `k${String(n).padStart(3, '0')}.manifest.json`;
      api.artifacts.seedArtifact({ name: artifactName(key), files: { [key]: '{}' }, runId: 7 });
    }
    api.artifacts.seedArtifact({ name: `${ARTIFACT_PREFIX}not a key`, files: { x: 'x' }, runId: 7 });
    inRun(400);
    const keys = await store().list();
    expect(keys).toHaveLength(105);
    expect(keys[0]).toBe('k000.manifest.json');
    expect(
      api.requestsTo('GET', '/repos/acme/app/actions/artifacts').map((r) => r.query.page ?? '1'),
    ).toEqual(['1', '2']);
  });

  it('fails an upload outside GitHub Actions with a hint, keeping nothing', async () => {
    inRun(500);
    delete process.env.ACTIONS_RUNTIME_TOKEN;
    const s = store();
    const error = await rejection(s.put('c.dump.enc', ReadableStream.from([encryptedLooking(100)])));
    expect(error.code).toBe('BACKUP_STORE_FAILED');
    expect(error.message).toContain('supagate-backup-c.dump.enc');
    expect(error.hint).toContain('ACTIONS_RUNTIME_TOKEN');
    expect(await s.list()).toEqual([]);
  });

  it('keeps the signed URL out of a failed upload’s error', async () => {
    inRun(501);
    api.fail({
      method: 'PUT',
      path: /^\/blob\//,
      status: 403,
      message: 'Server failed to authenticate the request.',
    });
    const error = await rejection(store().put('d.dump.enc', ReadableStream.from([encryptedLooking(100)])));
    expect(error.code).toBe('BACKUP_STORE_FAILED');
    const [pending] = api.artifacts.artifacts;
    const sig = new URL(api.artifacts.signedDownloadUrl(pending as never)).searchParams.get('sig') as string;
    expect(
      JSON.stringify({ message: error.message, hint: error.hint, details: error.details }),
    ).not.toContain(sig);
    expect(api.artifacts.finalized()).toEqual([]);
  });
});

describe('createArtifactUploader', () => {
  it('refuses a retention that is not a whole number of days', () => {
    for (const retentionDays of [0, -1, 1.5]) {
      expect(() => createArtifactUploader({ retentionDays })).toThrow(/retention/);
    }
  });
});
