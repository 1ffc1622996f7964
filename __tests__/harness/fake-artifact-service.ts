import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The storage side of GitHub Actions artifacts (v4, what @actions/artifact 2+ and
 * upload-artifact@v4 use), for one repository, served by FakeGitHubApi on its own port:
 *
 * - the Actions results service, Twirp JSON at `/twirp/github.actions.results.api.v1.ArtifactService/<Method>`
 *   (CreateArtifact, FinalizeArtifact, ListArtifacts, GetSignedArtifactURL, DeleteArtifact), bearer
 *   ACTIONS_RUNTIME_TOKEN: point ACTIONS_RESULTS_URL at the server;
 * - blob storage behind the signed URLs it hands out, `/blob/<account>/<container>/<blob>?sig=…`:
 *   Put Block + Put Block List (what @azure/storage-blob's uploadStream sends), a single Put Blob,
 *   and Get Blob. A wrong or missing `sig`, or any Authorization header, is 403;
 * - data for the REST routes FakeGitHubApi serves (`/repos/{o}/{r}/actions/artifacts…`).
 *
 * Runtime tokens are unsigned JWTs (the library only decodes them) whose `scp` claim carries
 * the run's backend ids; `runtimeToken(runId)` mints one per workflow run id. An artifact
 * exists for the REST API once it is finalized; until then it is pending, as on GitHub.
 */

export const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.ArtifactService/';
export const BLOB_PREFIX = '/blob/';

export interface StoredArtifact {
  id: number;
  name: string;
  /** The workflow run (GITHUB_RUN_ID) it belongs to. */
  runId: number;
  runBackendId: string;
  jobBackendId: string;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  /** Marked expired explicitly; an artifact whose expiresAt has passed is expired too. */
  expiredFlag: boolean;
  finalized: boolean;
  /** The blob: a zip for artifacts uploaded by @actions/artifact without skipArchive. */
  blobPath: string;
  /** `sha256:<hex>` of the blob, set on finalize. */
  digest: string | null;
  /** The size FinalizeArtifact reported. */
  size: number;
  mimeType: string | null;
}

export interface ServiceResponse {
  status: number;
  body: Buffer | string;
  headers: Record<string, string>;
}

interface Blob {
  /** The `sig` a request must carry. */
  sig: string;
  committed: Buffer | undefined;
  contentType: string | undefined;
  /** Staged, uncommitted blocks by their (base64) block id. */
  blocks: Map<string, Buffer>;
}

interface RunIds {
  runId: number;
  runBackendId: string;
  jobBackendId: string;
}

class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const DAY_MS = 86_400_000;

export class FakeArtifactService {
  /** Artifacts in creation order, pending ones included. */
  readonly artifacts: StoredArtifact[] = [];
  readonly repositoryId = 424242;
  private readonly blobs = new Map<string, Blob>();
  private readonly tokens = new Map<string, RunIds>();
  private readonly runs = new Map<number, RunIds>();
  private nextId = 7000;

  constructor(
    private readonly baseUrl: () => string,
    private readonly now: () => Date,
  ) {}

  reset(): void {
    this.artifacts.length = 0;
    this.blobs.clear();
    this.tokens.clear();
    this.runs.clear();
  }

  // ── seeding ────────────────────────────────────────────────────────────────────────────

  /**
   * An ACTIONS_RUNTIME_TOKEN for workflow run `runId`: an unsigned JWT whose `scp` claim holds
   * `Actions.Results:<runBackendId>:<jobBackendId>`, as the runner's does.
   */
  runtimeToken(runId: number): string {
    const ids = this.runIds(runId);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = [
      encode({ typ: 'JWT', alg: 'none' }),
      encode({
        scp: `Actions.GenericRead:00000000-0000-0000-0000-000000000000 Actions.Results:${ids.runBackendId}:${ids.jobBackendId}`,
        iat: Math.floor(this.now().getTime() / 1000),
        jti: randomUUID(),
      }),
      '',
    ].join('.');
    this.tokens.set(token, ids);
    return token;
  }

  /**
   * A finalized artifact "from an earlier run": a zip (stored, as upload-artifact makes with
   * compression-level 0) holding `files`.
   */
  seedArtifact(seed: {
    name: string;
    files: Record<string, Buffer | string>;
    runId: number;
    createdAt?: Date;
    /** Default: 90 days after createdAt. */
    expiresAt?: Date;
    expired?: boolean;
  }): StoredArtifact {
    const ids = this.runIds(seed.runId);
    const zip = storedZip(
      Object.entries(seed.files).map(([path, data]) => ({
        path,
        data: typeof data === 'string' ? Buffer.from(data) : data,
      })),
    );
    const created = seed.createdAt ?? this.now();
    const artifact = this.create(ids, seed.name, 'application/zip', seed.expiresAt, created);
    const blob = this.blobs.get(artifact.blobPath) as Blob;
    blob.committed = zip;
    blob.contentType = 'application/zip';
    artifact.finalized = true;
    artifact.size = zip.length;
    artifact.digest = `sha256:${createHash('sha256').update(zip).digest('hex')}`;
    if (seed.expired) this.expire(artifact.id);
    return artifact;
  }

  /** Marks an artifact expired: the REST API lists it with `expired: true` and will not download it. */
  expire(id: number): void {
    const artifact = this.artifacts.find((a) => a.id === id);
    if (!artifact) throw new Error(`no artifact ${id}`);
    artifact.expiredFlag = true;
    artifact.expiresAt = new Date(this.now().getTime() - 1000).toISOString();
  }

  // ── reading state ──────────────────────────────────────────────────────────────────────

  isExpired(artifact: StoredArtifact): boolean {
    return artifact.expiredFlag || Date.parse(artifact.expiresAt) <= this.now().getTime();
  }

  /** Finalized artifacts, newest first (the REST API's order). */
  finalized(filter: { name?: string; runId?: number } = {}): StoredArtifact[] {
    return this.artifacts
      .filter((a) => a.finalized)
      .filter((a) => filter.name === undefined || a.name === filter.name)
      .filter((a) => filter.runId === undefined || a.runId === filter.runId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);
  }

  /** The stored blob of an artifact (the zip), or undefined before it is committed. */
  blobOf(id: number): Buffer | undefined {
    const artifact = this.artifacts.find((a) => a.id === id);
    return artifact ? this.blobs.get(artifact.blobPath)?.committed : undefined;
  }

  remove(id: number): boolean {
    const index = this.artifacts.findIndex((a) => a.id === id);
    if (index === -1) return false;
    const [artifact] = this.artifacts.splice(index, 1);
    if (artifact) this.blobs.delete(artifact.blobPath);
    return true;
  }

  /** The artifact as GET /repos/{owner}/{repo}/actions/artifacts lists it. */
  toRest(artifact: StoredArtifact, apiUrl: string, full: string): Record<string, unknown> {
    return {
      id: artifact.id,
      node_id: `MDg6QXJ0aWZhY3Q${artifact.id}`,
      name: artifact.name,
      size_in_bytes: artifact.size,
      url: `${apiUrl}/repos/${full}/actions/artifacts/${artifact.id}`,
      archive_download_url: `${apiUrl}/repos/${full}/actions/artifacts/${artifact.id}/zip`,
      expired: this.isExpired(artifact),
      digest: artifact.digest,
      created_at: artifact.createdAt,
      updated_at: artifact.updatedAt,
      expires_at: artifact.expiresAt,
      workflow_run: {
        id: artifact.runId,
        repository_id: this.repositoryId,
        head_repository_id: this.repositoryId,
        head_branch: 'main',
        head_sha: createHash('sha1').update(String(artifact.runId)).digest('hex'),
      },
    };
  }

  /** A short-lived signed URL for reading an artifact's blob (what the zip download redirects to). */
  signedDownloadUrl(artifact: StoredArtifact): string {
    const blob = this.blobs.get(artifact.blobPath) as Blob;
    const expiry = new Date(this.now().getTime() + 60_000).toISOString();
    return `${this.baseUrl()}${artifact.blobPath}?sv=2021-08-06&se=${encodeURIComponent(expiry)}&sr=b&sp=r&sig=${encodeURIComponent(blob.sig)}`;
  }

  // ── the service ────────────────────────────────────────────────────────────────────────

  /** Whether a request is for the results service or blob storage (not the REST API). */
  serves(url: URL): boolean {
    return url.pathname.startsWith(TWIRP_PREFIX) || url.pathname.startsWith(BLOB_PREFIX);
  }

  /** Answers a Twirp or blob request. */
  handle(
    method: string,
    url: URL,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): { response: ServiceResponse; identity: string | undefined } {
    if (url.pathname.startsWith(TWIRP_PREFIX)) return this.twirp(method, url, headers, body);
    return { response: this.blob(method, url, headers, body), identity: 'signed-url' };
  }

  /** The error answer of a Twirp or blob route, for a failure FakeGitHubApi injects. */
  failure(url: URL, status: number, message: string): ServiceResponse {
    return url.pathname.startsWith(TWIRP_PREFIX)
      ? twirpError(new ServiceError(status, status >= 500 ? 'internal' : 'invalid_argument', message))
      : blobError(status, 'InjectedFailure', message);
  }

  private twirp(
    method: string,
    url: URL,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): { response: ServiceResponse; identity: string | undefined } {
    let identity: string | undefined;
    try {
      if (method !== 'POST') throw new ServiceError(404, 'bad_route', `no handler for ${method}`);
      const [scheme, token] = (headers.authorization ?? '').split(' ');
      const ids = scheme?.toLowerCase() === 'bearer' && token ? this.tokens.get(token) : undefined;
      if (!ids) throw new ServiceError(401, 'unauthenticated', 'invalid or missing runtime token');
      identity = `run ${ids.runId}`;
      if (!String(headers['content-type'] ?? '').startsWith('application/json')) {
        throw new ServiceError(415, 'bad_route', 'only the JSON protocol is served');
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new ServiceError(400, 'malformed', 'the body is not JSON');
      }
      const rpc = url.pathname.slice(TWIRP_PREFIX.length);
      const output = this.rpc(rpc, input, ids);
      return {
        response: {
          status: 200,
          body: JSON.stringify(output),
          headers: { 'content-type': 'application/json' },
        },
        identity,
      };
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      return { response: twirpError(error), identity };
    }
  }

  private rpc(rpc: string, input: Record<string, unknown>, ids: RunIds): Record<string, unknown> {
    const sameJob = () => {
      if (
        input.workflow_run_backend_id !== ids.runBackendId ||
        input.workflow_job_run_backend_id !== ids.jobBackendId
      ) {
        throw new ServiceError(403, 'permission_denied', 'the backend ids do not match the runtime token');
      }
    };
    const name = typeof input.name === 'string' ? input.name : '';
    switch (rpc) {
      case 'CreateArtifact': {
        sameJob();
        if (!name || /["':<>|*?\r\n\\/]/.test(name)) {
          throw new ServiceError(400, 'invalid_argument', `invalid artifact name "${name}"`);
        }
        const existing = this.artifacts.filter((a) => a.runBackendId === ids.runBackendId && a.name === name);
        if (existing.some((a) => a.finalized)) {
          throw new ServiceError(
            409,
            'already_exists',
            'an artifact with this name already exists on the workflow run',
          );
        }
        // An upload that never finalized is replaced (lenient: GitHub's handling is not documented).
        for (const pending of existing) this.remove(pending.id);
        const expiresAt = typeof input.expires_at === 'string' ? new Date(input.expires_at) : undefined;
        const mime = typeof input.mime_type === 'string' ? input.mime_type : null;
        const artifact = this.create(ids, name, mime, expiresAt, this.now());
        const blob = this.blobs.get(artifact.blobPath) as Blob;
        return {
          ok: true,
          signed_upload_url: `${this.baseUrl()}${artifact.blobPath}?sv=2021-08-06&sr=b&sp=cw&sig=${encodeURIComponent(blob.sig)}`,
        };
      }
      case 'FinalizeArtifact': {
        sameJob();
        const artifact = this.artifacts.find(
          (a) => a.runBackendId === ids.runBackendId && a.name === name && !a.finalized,
        );
        if (!artifact) throw new ServiceError(404, 'not_found', `no pending artifact named "${name}"`);
        const blob = this.blobs.get(artifact.blobPath) as Blob;
        if (!blob.committed) throw new ServiceError(400, 'failed_precondition', 'nothing was uploaded');
        const size = Number(input.size ?? 0);
        if (size !== blob.committed.length) {
          throw new ServiceError(
            400,
            'invalid_argument',
            `size ${size} differs from the ${blob.committed.length} bytes uploaded`,
          );
        }
        const digest = `sha256:${createHash('sha256').update(blob.committed).digest('hex')}`;
        if (input.hash !== undefined && input.hash !== digest) {
          throw new ServiceError(400, 'invalid_argument', 'hash differs from the uploaded content');
        }
        artifact.finalized = true;
        artifact.size = size;
        artifact.digest = digest;
        artifact.updatedAt = this.now().toISOString();
        return { ok: true, artifact_id: String(artifact.id) };
      }
      case 'ListArtifacts': {
        const nameFilter = typeof input.name_filter === 'string' ? input.name_filter : undefined;
        const idFilter = input.id_filter === undefined ? undefined : Number(input.id_filter);
        const list = this.finalized()
          .filter((a) => a.runBackendId === input.workflow_run_backend_id && !this.isExpired(a))
          .filter((a) => nameFilter === undefined || a.name === nameFilter)
          .filter((a) => idFilter === undefined || a.id === idFilter);
        return {
          artifacts: list.map((a) => ({
            workflow_run_backend_id: a.runBackendId,
            workflow_job_run_backend_id: a.jobBackendId,
            database_id: String(a.id),
            name: a.name,
            size: String(a.size),
            created_at: a.createdAt,
            ...(a.digest ? { digest: a.digest } : {}),
          })),
        };
      }
      case 'GetSignedArtifactURL': {
        const artifact = this.finalized({ name }).find(
          (a) => a.runBackendId === input.workflow_run_backend_id && !this.isExpired(a),
        );
        if (!artifact) throw new ServiceError(404, 'not_found', `no artifact named "${name}"`);
        return { signed_url: this.signedDownloadUrl(artifact) };
      }
      case 'DeleteArtifact': {
        sameJob();
        const artifact = this.finalized({ name }).find((a) => a.runBackendId === ids.runBackendId);
        if (!artifact) throw new ServiceError(404, 'not_found', `no artifact named "${name}"`);
        this.remove(artifact.id);
        return { ok: true, artifact_id: String(artifact.id) };
      }
      default:
        throw new ServiceError(404, 'bad_route', `no handler for ${rpc}`);
    }
  }

  private blob(method: string, url: URL, headers: IncomingHttpHeaders, body: Buffer): ServiceResponse {
    const blob = this.blobs.get(url.pathname);
    if (!blob) return blobError(404, 'BlobNotFound', 'The specified blob does not exist.');
    if (headers.authorization !== undefined || url.searchParams.get('sig') !== blob.sig) {
      return blobError(403, 'AuthenticationFailed', 'Server failed to authenticate the request.');
    }
    const ok = (status: number, extra: Record<string, string> = {}): ServiceResponse => ({
      status,
      body: '',
      headers: {
        'x-ms-request-id': randomUUID(),
        'x-ms-version': '2021-08-06',
        date: this.now().toUTCString(),
        ...extra,
      },
    });
    const comp = url.searchParams.get('comp');
    if (method === 'PUT' && comp === 'block') {
      const id = url.searchParams.get('blockid');
      if (!id) return blobError(400, 'InvalidQueryParameterValue', 'blockid is missing');
      blob.blocks.set(id, body);
      return ok(201, { 'x-ms-request-server-encrypted': 'true' });
    }
    if (method === 'PUT' && comp === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<(Latest|Uncommitted|Committed)>([^<]*)<\/\1>/g)].map(
        (m) => m[2] as string,
      );
      const parts: Buffer[] = [];
      for (const id of ids) {
        const block = blob.blocks.get(id);
        if (!block) return blobError(400, 'InvalidBlockList', 'The specified block list is invalid.');
        parts.push(block);
      }
      blob.committed = Buffer.concat(parts);
      blob.blocks.clear();
      blob.contentType = headerValue(headers['x-ms-blob-content-type']) ?? blob.contentType;
      return ok(201, {
        etag: `"0x${randomBytes(8).toString('hex')}"`,
        'last-modified': this.now().toUTCString(),
      });
    }
    if (method === 'PUT' && comp === null) {
      if (headerValue(headers['x-ms-blob-type']) !== 'BlockBlob') {
        return blobError(400, 'MissingRequiredHeader', 'x-ms-blob-type is missing');
      }
      blob.committed = body;
      blob.blocks.clear();
      blob.contentType =
        headerValue(headers['x-ms-blob-content-type']) ?? headerValue(headers['content-type']) ?? undefined;
      return ok(201, {
        etag: `"0x${randomBytes(8).toString('hex')}"`,
        'last-modified': this.now().toUTCString(),
      });
    }
    if ((method === 'GET' || method === 'HEAD') && comp === null) {
      if (!blob.committed) return blobError(404, 'BlobNotFound', 'The specified blob does not exist.');
      const name = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
      return {
        status: 200,
        body: method === 'HEAD' ? '' : blob.committed,
        headers: {
          'content-type': blob.contentType ?? 'application/octet-stream',
          'content-length': String(blob.committed.length),
          'content-disposition': `attachment; filename="${name}"`,
          'x-ms-blob-type': 'BlockBlob',
        },
      };
    }
    return blobError(405, 'UnsupportedHttpVerb', `${method} ${comp ?? ''} is not supported`);
  }

  private runIds(runId: number): RunIds {
    let ids = this.runs.get(runId);
    if (!ids) {
      ids = { runId, runBackendId: randomUUID(), jobBackendId: randomUUID() };
      this.runs.set(runId, ids);
    }
    return ids;
  }

  private create(
    ids: RunIds,
    name: string,
    mimeType: string | null,
    expiresAt: Date | undefined,
    createdAt: Date,
  ): StoredArtifact {
    this.nextId += 1;
    const id = this.nextId;
    const blobPath = `${BLOB_PREFIX}fakeresults/actions-results/${ids.runBackendId}/${ids.jobBackendId}/${id}/${encodeURIComponent(name)}.zip`;
    this.blobs.set(blobPath, {
      sig: randomBytes(18).toString('base64url'),
      committed: undefined,
      contentType: undefined,
      blocks: new Map(),
    });
    const artifact: StoredArtifact = {
      id,
      name,
      runId: ids.runId,
      runBackendId: ids.runBackendId,
      jobBackendId: ids.jobBackendId,
      createdAt: createdAt.toISOString(),
      updatedAt: createdAt.toISOString(),
      expiresAt: (expiresAt ?? new Date(createdAt.getTime() + 90 * DAY_MS)).toISOString(),
      expiredFlag: false,
      finalized: false,
      blobPath,
      digest: null,
      size: 0,
      mimeType,
    };
    this.artifacts.push(artifact);
    return artifact;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function twirpError(error: ServiceError): ServiceResponse {
  return {
    status: error.status,
    body: JSON.stringify({ code: error.code, msg: error.message }),
    headers: { 'content-type': 'application/json' },
  };
}

function blobError(status: number, code: string, message: string): ServiceResponse {
  return {
    status,
    body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    headers: { 'content-type': 'application/xml', 'x-ms-error-code': code },
  };
}

/* A zip of stored (uncompressed) entries: enough for seeding artifacts without a zip library. */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function storedZip(files: { path: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.path, 'utf8');
    const crc = crc32(file.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time, date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(file.data.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(file.data.length, 20);
    central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, file.data);
    centrals.push(central, name);
    offset += local.length + name.length + file.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
