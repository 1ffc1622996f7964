import { createRequire as __createRequire } from 'node:module';
import { fileURLToPath as __fileURLToPath } from 'node:url';
import { dirname as __pathDirname } from 'node:path';
const require = __createRequire(import.meta.url);
var __filename = __fileURLToPath(import.meta.url);
var __dirname = __pathDirname(__filename);
import {
  DirectoryStore,
  MANAGED_SCHEMAS,
  SupagateError,
  accessMatrix,
  cacheRoot,
  clearBaselines,
  clearTemplates,
  connect,
  countTemplates,
  describeTarget,
  diffSchemas,
  disconnect,
  httpStatusOf,
  introducedLints,
  introspect,
  listBackups,
  listBaselines,
  notCompared,
  notComparedChanges,
  openBackupStore,
  phase,
  redact,
  registerSecret,
  restoreBackup,
  storageApiClient,
  takeBackup,
  withRetries
} from "./chunk-JPHX5FAB.js";

// src/core/report/json.ts
function renderJson(result, ok) {
  return JSON.stringify({ ok, ...result }, redactStrings, 2);
}
function renderJsonError(command, error) {
  const body = error instanceof SupagateError ? error.toJSON() : { code: "INTERNAL", message: error instanceof Error ? error.message : String(error), details: {} };
  return JSON.stringify({ ok: false, command, error: body }, redactStrings, 2);
}
function redactStrings(_key, value) {
  return typeof value === "string" ? redact(value) : value;
}

// src/core/commands/cache.ts
async function cacheList(options) {
  const folder = cacheRoot(options.cacheDir);
  const listed = await listBaselines(folder);
  return {
    command: "cache list",
    folder,
    baselines: listed.length,
    bytes: listed.reduce((sum, entry) => sum + entry.bytes, 0),
    ...options.shadowUrl ? { templates: await countTemplates(options.shadowUrl) } : {}
  };
}
async function cacheClear(options) {
  const folder = cacheRoot(options.cacheDir);
  const removed = await clearBaselines(folder);
  return {
    command: "cache clear",
    folder,
    baselines: removed.entries,
    bytes: removed.bytes,
    ...options.shadowUrl ? { templates: await clearTemplates(options.shadowUrl) } : {}
  };
}

// src/core/commands/backups.ts
async function backupsList(config) {
  const store = openBackupStore(config);
  const unreadable = [];
  const backups = await listBackups(store, { onInvalid: (key) => unreadable.push(key) });
  return { command: "backups", store: store.kind, backups, unreadable };
}

// src/core/commands/copy.ts
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

// src/core/backup/storage-copy.ts
import { createHash as createHash2 } from "node:crypto";
import { Readable as Readable2 } from "node:stream";

// src/core/backup/storage-api.ts
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
var Side = class {
  constructor(role, project, settings) {
    this.role = role;
    this.settings = settings;
    if (!project?.url) {
      throw new SupagateError("CONFIG_INVALID", `Copying Storage needs the ${role} project's URL`, {
        hint: `Pass the ${role} project URL (https://<ref>.supabase.co) with its service_role key.`,
        details: { side: role }
      });
    }
    let url;
    try {
      url = new URL(project.url);
      if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http");
    } catch {
      throw new SupagateError(
        "CONFIG_INVALID",
        `The ${role} project URL "${redact(project.url)}" is not an http(s) URL`,
        {
          hint: "Use the project URL, https://<ref>.supabase.co (Project Settings \u2192 API), not the database URL.",
          details: { side: role }
        }
      );
    }
    this.host = url.host;
    this.address = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    if (!project.serviceKey) {
      throw new SupagateError(
        "CONFIG_INVALID",
        `Copying Storage needs the ${role} project's service_role key`,
        {
          hint: "Pass it from a secret (SUPABASE_SERVICE_ROLE_KEY of each project).",
          details: { side: role }
        }
      );
    }
    const keyKind = keyRole(project.serviceKey);
    if (keyKind !== void 0 && keyKind !== "service_role" && keyKind !== "supabase_admin") {
      throw new SupagateError(
        "STORAGE_COPY_FORBIDDEN",
        `The ${role} key (${this.host}) is a ${keyKind} key, not a service_role key: it cannot see private buckets`,
        { hint: FORBIDDEN_HINT, details: { side: role, keyRole: keyKind } }
      );
    }
    this.#client = storageApiClient(project.url, project.serviceKey);
  }
  role;
  settings;
  host;
  /** Origin and path, to tell two projects apart. */
  address;
  #client;
  #files(bucket) {
    return this.#client.storage.from(encodeURIComponent(bucket));
  }
  async listBuckets() {
    const buckets = await this.#call("list buckets", () => this.#client.storage.listBuckets());
    return buckets.map(bucketInfo);
  }
  async getBucket(id) {
    return bucketInfo(
      await this.#call(`read bucket "${id}"`, () => this.#client.storage.getBucket(encodeURIComponent(id)))
    );
  }
  /** Creates the bucket with the source's settings; false when it already exists. */
  async createBucket(bucket) {
    return retrying(this.settings, async () => {
      const { error } = await this.#client.storage.createBucket(bucket.id, {
        public: bucket.public,
        fileSizeLimit: bucket.fileSizeLimit,
        allowedMimeTypes: bucket.allowedMimeTypes
      });
      if (!error) return true;
      if (bodyStatusOf(error) === 409) return false;
      throw this.#fail(`create bucket "${bucket.id}"`, error);
    });
  }
  /** Every object of the bucket, by full name: folder by folder, page by page. */
  async listObjects(bucket) {
    const objects = /* @__PURE__ */ new Map();
    const folders = [""];
    const seenFolders = new Set(folders);
    for (let i = 0; i < folders.length; i++) {
      const folder = folders[i];
      const seen = /* @__PURE__ */ new Set();
      for (let offset = 0; ; ) {
        const page = await this.#call(
          `list "${bucket}/${folder}"`,
          () => this.#files(bucket).list(folder, {
            limit: this.settings.pageSize,
            offset,
            sortBy: { column: "name", order: "asc" }
          })
        );
        let fresh = 0;
        for (const entry of page) {
          if (!entry.name) continue;
          const isFolder = entry.id === null || entry.id === void 0;
          const key = `${isFolder ? "d" : "f"}:${entry.name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          fresh++;
          const path = folder ? `${folder}/${entry.name}` : entry.name;
          if (isFolder) {
            if (!seenFolders.has(path)) {
              seenFolders.add(path);
              folders.push(path);
            }
            continue;
          }
          const metadata = entry.metadata ?? {};
          const size = Number(metadata.size);
          objects.set(path, {
            name: path,
            size: metadata.size === void 0 || metadata.size === null || !Number.isFinite(size) ? void 0 : size,
            mimetype: typeof metadata.mimetype === "string" ? metadata.mimetype : void 0,
            cacheControl: typeof metadata.cacheControl === "string" ? metadata.cacheControl : void 0
          });
        }
        if (page.length < this.settings.pageSize || fresh === 0) break;
        offset += page.length;
      }
    }
    return objects;
  }
  /** A stream of the object's bytes (one attempt; errors classified). */
  async openDownload(bucket, name) {
    const { data, error } = await this.#files(bucket).download(encodePath(name)).asStream().then(
      (outcome) => outcome,
      (thrown) => ({ data: null, error: thrown })
    );
    if (error) throw this.#fail(`download "${bucket}/${name}"`, error);
    if (!data) return Readable.from([]);
    return Readable.fromWeb(data);
  }
  /** Uploads a stream under the name, replacing what is there (one attempt; errors classified). */
  async upload(bucket, name, body, item) {
    const maxAge = /max-age=(\d+)/.exec(item.cacheControl ?? "")?.[1];
    let error;
    try {
      ({ error } = await this.#files(bucket).upload(encodePath(name), body, {
        upsert: true,
        contentType: item.mimetype ?? "application/octet-stream",
        ...maxAge ? { cacheControl: maxAge } : {},
        duplex: "half"
      }));
    } catch (thrown) {
      error = thrown;
    }
    if (error) throw this.#fail(`upload "${bucket}/${name}"`, error);
  }
  /** SHA-256 and size of the object as downloaded now (with retries). */
  async digest(bucket, name) {
    return retrying(this.settings, async () => {
      const stream = await this.openDownload(bucket, name);
      const hash = createHash("sha256");
      let size = 0;
      try {
        for await (const chunk of stream) {
          hash.update(chunk);
          size += chunk.length;
        }
      } catch (error) {
        stream.destroy();
        throw this.#fail(`download "${bucket}/${name}"`, error);
      }
      return { sha256: hash.digest("hex"), size };
    });
  }
  async #call(what, operation) {
    return retrying(this.settings, async () => {
      let outcome;
      try {
        outcome = await operation();
      } catch (error) {
        throw this.#fail(what, error);
      }
      if (outcome.error || outcome.data === null) throw this.#fail(what, outcome.error ?? "no answer");
      return outcome.data;
    });
  }
  /** A typed error: forbidden (stop), retryable (5xx, 408, 429, network) or failed. */
  #fail(what, error) {
    if (error instanceof SupagateError || error instanceof Retryable) return error;
    const status = httpStatusOf(error);
    const bodyStatus = bodyStatusOf(error);
    const message = messageOf(error);
    const denied = status === 401 || status === 403 || bodyStatus === 401 || bodyStatus === 403 || status === 400 && /\b(jwt|jws|invalid signature|unauthori[sz]ed)\b/i.test(message);
    if (denied) {
      return new SupagateError(
        "STORAGE_COPY_FORBIDDEN",
        `The ${this.role} project (${this.host}) refused to ${what} (HTTP ${status ?? bodyStatus}): ${message}`,
        { hint: FORBIDDEN_HINT, details: { side: this.role, status: status ?? bodyStatus } }
      );
    }
    const failed = new SupagateError(
      "STORAGE_COPY_FAILED",
      `Supabase Storage on the ${this.role} (${this.host}) could not ${what}${status ? ` (HTTP ${status})` : ""}: ${message}`,
      {
        hint: "Check the project URL and its Storage settings (file size limit, allowed MIME types); retries are made after 5xx, 429 and network errors.",
        details: {
          side: this.role,
          ...status ? { status } : {},
          ...bodyStatus ? { statusCode: bodyStatus } : {}
        }
      }
    );
    const transient = status === void 0 || status >= 500 || status === 408 || status === 429 || bodyStatus !== void 0 && (bodyStatus >= 500 || bodyStatus === 429);
    return transient ? new Retryable(failed) : failed;
  }
};
var FORBIDDEN_HINT = "Use each project's service_role key (Project Settings \u2192 API Keys \u2192 service_role, or a secret key sb_secret_\u2026): the anon and publishable keys cannot list buckets or read private files.";
var Retryable = class extends Error {
  constructor(final) {
    super(final.message);
    this.final = final;
  }
  final;
};
async function retrying(settings, work) {
  try {
    return await withRetries(work, {
      retries: settings.retries,
      delayMs: settings.retryDelayMs,
      retryable: (error) => error instanceof Retryable
    });
  } catch (error) {
    throw error instanceof Retryable ? error.final : error;
  }
}
function bucketInfo(bucket) {
  return {
    id: bucket.id,
    public: bucket.public === true,
    fileSizeLimit: bucket.file_size_limit ?? null,
    allowedMimeTypes: bucket.allowed_mime_types?.length ? [...bucket.allowed_mime_types] : null
  };
}
function keyRole(key) {
  if (key.startsWith("sb_secret_")) return "service_role";
  if (key.startsWith("sb_publishable_")) return "publishable";
  const parts = key.split(".");
  if (parts.length !== 3) return void 0;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    return typeof payload.role === "string" && /^[a-z_]{1,40}$/.test(payload.role) ? payload.role : void 0;
  } catch {
    return void 0;
  }
}
function encodePath(name) {
  return name.split("/").map(encodeURIComponent).join("/");
}
function bodyStatusOf(error) {
  const code = Number(error?.statusCode);
  return Number.isInteger(code) && code >= 100 && code < 600 ? code : void 0;
}
function messageOf(error) {
  if (error instanceof Error) {
    const cause = error.cause;
    const detail = cause instanceof Error && cause.message !== error.message ? ` (${cause.message})` : "";
    return redact(`${error.message}${detail}`);
  }
  return redact(typeof error === "string" ? error : JSON.stringify(error));
}

// src/core/backup/storage-copy.ts
var MAX_MISMATCHES = 100;
async function copyStorageObjects(options) {
  registerSecret(options.from?.serviceKey);
  registerSecret(options.to?.serviceKey);
  const settings = {
    retries: options.retries ?? 3,
    retryDelayMs: options.retryDelayMs ?? 500,
    pageSize: options.pageSize ?? 1e3
  };
  const concurrency = options.concurrency ?? 4;
  checkNumber("concurrency", concurrency, 1);
  checkNumber("pageSize", settings.pageSize, 1);
  checkNumber("retries", settings.retries, 0);
  checkNumber("retryDelayMs", settings.retryDelayMs, 0);
  const source = new Side("source", options.from, settings);
  const target = new Side("target", options.to, settings);
  if (source.address === target.address) {
    throw new SupagateError(
      "CONFIG_INVALID",
      `The source and the target are the same project (${source.host})`,
      {
        hint: "Pass the URL of the project to copy from and the URL of another project to copy into."
      }
    );
  }
  const progress = (event) => {
    try {
      options.onProgress?.(event);
    } catch {
    }
  };
  const sourceBuckets = await source.listBuckets();
  const wanted = options.buckets?.length ? [...new Set(options.buckets)] : void 0;
  if (wanted) {
    const missing = wanted.filter((id) => !sourceBuckets.some((bucket) => bucket.id === id));
    if (missing.length > 0) {
      throw new SupagateError(
        "CONFIG_INVALID",
        `The source project (${source.host}) has no bucket ${missing.map((id) => `"${id}"`).join(", ")}`,
        {
          hint: `Its buckets: ${sourceBuckets.map((bucket) => bucket.id).join(", ") || "none"}.`,
          details: { missing, available: sourceBuckets.map((bucket) => bucket.id) }
        }
      );
    }
  }
  const selected = sourceBuckets.filter((bucket) => !wanted || wanted.includes(bucket.id)).sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const targetBuckets = new Map((await target.listBuckets()).map((bucket) => [bucket.id, bucket]));
  const results = [];
  for (const bucket of selected) {
    results.push(
      await copyBucket(bucket, targetBuckets.get(bucket.id), { source, target, concurrency, progress })
    );
  }
  return { buckets: results, ok: results.every((bucket) => bucket.mismatches.length === 0) };
}
async function copyBucket(bucket, existing, { source, target, concurrency, progress }) {
  const result = {
    id: bucket.id,
    public: bucket.public,
    created: false,
    objects: 0,
    bytes: 0,
    copied: 0,
    skipped: 0,
    mismatches: [],
    warnings: []
  };
  const mismatches = new MismatchList(result.mismatches);
  let onTarget = existing;
  if (!onTarget) {
    result.created = await target.createBucket(bucket);
    onTarget = await target.getBucket(bucket.id);
  }
  const conflict = onTarget.public !== bucket.public;
  if (conflict) {
    mismatches.add(
      `bucket "${bucket.id}" is ${visibility(bucket.public)} on the source but ${visibility(onTarget.public)} on the target: nothing copied into it (change its Public setting on the target if that is intended, then copy again)`
    );
  } else if (!result.created) {
    result.warnings.push(...settingDifferences(bucket, onTarget));
  }
  progress({ phase: "bucket", bucket: bucket.id, created: result.created, conflict });
  const sourceObjects = await source.listObjects(bucket.id);
  result.objects = sourceObjects.size;
  result.bytes = totalBytes(sourceObjects);
  progress({ phase: "list", bucket: bucket.id, objects: result.objects, bytes: result.bytes });
  if (conflict) {
    mismatches.finish();
    return result;
  }
  const targetObjects = result.created ? /* @__PURE__ */ new Map() : await target.listObjects(bucket.id);
  const copiedDigests = /* @__PURE__ */ new Map();
  const items = [...sourceObjects.values()].sort((a, b) => a.name < b.name ? -1 : 1);
  let done = 0;
  await eachLimited(items, concurrency, async (item) => {
    let action;
    let bytes = 0;
    try {
      if (await identical(source, target, bucket.id, item, targetObjects.get(item.name))) {
        action = "skipped";
        result.skipped++;
        bytes = item.size ?? 0;
      } else {
        const digest = await transfer(source, target, bucket.id, item);
        copiedDigests.set(item.name, digest);
        action = "copied";
        result.copied++;
        bytes = digest.size;
      }
    } catch (error) {
      if (isForbidden(error)) throw error;
      mismatches.add(`${item.name}: not copied: ${messageOf(error)}`);
      action = "failed";
    }
    done++;
    progress({
      phase: "object",
      bucket: bucket.id,
      name: item.name,
      action,
      bytes,
      done,
      total: items.length
    });
  });
  await verifyBucket(bucket.id, copiedDigests, mismatches, { source, target, concurrency, progress });
  mismatches.finish();
  progress({ phase: "verify", bucket: bucket.id, ok: result.mismatches.length === 0 });
  return result;
}
async function identical(source, target, bucket, item, onTarget) {
  if (!onTarget || item.size === void 0 || onTarget.size !== item.size) return false;
  if (onTarget.mimetype !== item.mimetype) return false;
  if (item.size === 0) return true;
  const [ours, theirs] = await Promise.all([
    source.digest(bucket, item.name),
    target.digest(bucket, item.name)
  ]);
  return ours.sha256 === theirs.sha256 && ours.size === theirs.size;
}
async function transfer(source, target, bucket, item) {
  return retrying(source.settings, async () => {
    const download = await source.openDownload(bucket, item.name);
    const hash = createHash2("sha256");
    let size = 0;
    async function* hashed() {
      for await (const chunk of download) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    }
    const body = Readable2.from(hashed(), { objectMode: false });
    try {
      await target.upload(bucket, item.name, body, item);
    } finally {
      body.destroy();
      download.destroy();
    }
    return { sha256: hash.digest("hex"), size };
  });
}
async function verifyBucket(bucket, copiedDigests, mismatches, { source, target, concurrency }) {
  const [onSource, onTarget] = await Promise.all([source.listObjects(bucket), target.listObjects(bucket)]);
  const sourceBytes = totalBytes(onSource);
  const targetBytes = totalBytes(onTarget);
  if (onSource.size !== onTarget.size || sourceBytes !== targetBytes) {
    mismatches.add(
      `bucket "${bucket}": ${onSource.size} objects (${sourceBytes} bytes) on the source, ${onTarget.size} objects (${targetBytes} bytes) on the target`
    );
  }
  for (const [name, item] of onSource) {
    const other = onTarget.get(name);
    if (!other) mismatches.add(`${name}: missing on the target`);
    else if (other.size !== item.size) {
      mismatches.add(`${name}: ${item.size ?? "?"} bytes on the source, ${other.size ?? "?"} on the target`);
    } else if (other.mimetype !== item.mimetype) {
      mismatches.add(
        `${name}: content type ${item.mimetype ?? "none"} on the source, ${other.mimetype ?? "none"} on the target`
      );
    }
  }
  for (const name of onTarget.keys()) {
    if (!onSource.has(name)) mismatches.add(`${name}: on the target only`);
  }
  const copied = [...copiedDigests.entries()].sort(([a], [b]) => a < b ? -1 : 1);
  await eachLimited(copied, concurrency, async ([name, expected]) => {
    try {
      const actual = await target.digest(bucket, name);
      if (actual.sha256 !== expected.sha256 || actual.size !== expected.size) {
        mismatches.add(
          `${name}: the target's copy differs from the source (SHA-256 ${short(actual.sha256)}\u2026, ${actual.size} bytes; expected ${short(expected.sha256)}\u2026, ${expected.size} bytes)`
        );
      }
    } catch (error) {
      if (isForbidden(error)) throw error;
      mismatches.add(`${name}: cannot be read back from the target: ${messageOf(error)}`);
    }
  });
}
async function eachLimited(items, limit, work) {
  let next = 0;
  let failure;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
var MismatchList = class {
  constructor(list) {
    this.list = list;
  }
  list;
  #more = 0;
  add(text) {
    if (this.list.length < MAX_MISMATCHES) this.list.push(redact(text));
    else this.#more++;
  }
  finish() {
    if (this.#more > 0) this.list.push(`\u2026 and ${this.#more} more`);
    this.#more = 0;
  }
};
function settingDifferences(source, target) {
  const warnings = [];
  if (String(source.fileSizeLimit ?? "none") !== String(target.fileSizeLimit ?? "none")) {
    warnings.push(
      `bucket "${source.id}": file size limit ${source.fileSizeLimit ?? "none"} on the source, ${target.fileSizeLimit ?? "none"} on the target`
    );
  }
  const types = (list) => list ? [...list].sort().join(", ") : "any";
  if (types(source.allowedMimeTypes) !== types(target.allowedMimeTypes)) {
    warnings.push(
      `bucket "${source.id}": allowed MIME types ${types(source.allowedMimeTypes)} on the source, ${types(target.allowedMimeTypes)} on the target`
    );
  }
  return warnings;
}
function totalBytes(objects) {
  let sum = 0;
  for (const item of objects.values()) sum += item.size ?? 0;
  return sum;
}
function visibility(isPublic) {
  return isPublic ? "public" : "private";
}
function short(sha256) {
  return sha256.slice(0, 12);
}
function isForbidden(error) {
  return error instanceof SupagateError && error.code === "STORAGE_COPY_FORBIDDEN";
}
function checkNumber(name, value, min) {
  if (!Number.isInteger(value) || value < min) {
    throw new SupagateError("CONFIG_INVALID", `Invalid ${name} ${value} for the Storage copy`, {
      hint: `Use a whole number, at least ${min}.`,
      details: { setting: name }
    });
  }
}

// src/core/commands/copy.ts
async function copyDatabase(config, options) {
  if (!options.from || !options.to) {
    throw new SupagateError(
      "CONFIG_INVALID",
      `copy needs two databases: ${options.from ? "--to" : "--from"} is missing`,
      {
        hint: "Pass --from <url> (the source) and --to <url> (the target).",
        details: { setting: options.from ? "to" : "from" }
      }
    );
  }
  const started = performance.now();
  const source = describeTarget(options.from);
  const target = describeTarget(options.to);
  if (!options.force) await assertEmpty(options.to, target.label);
  const work = await mkdtemp(join(tmpdir(), "supagate-copy-"));
  const key = randomBytes(32).toString("hex");
  registerSecret(key);
  try {
    const store = new DirectoryStore(work);
    const manifest = await phase(
      "backup",
      () => takeBackup({
        dbUrl: options.from,
        store,
        encryptionKey: key,
        ...config.pgDumpPath ? { pgDumpPath: config.pgDumpPath } : {},
        ...config.pgRestorePath ? { pgRestorePath: config.pgRestorePath } : {}
      })
    );
    const restore = await phase(
      "restore",
      () => restoreBackup({
        dbUrl: options.to,
        store,
        manifest,
        encryptionKey: key,
        allowOtherTarget: true,
        ...config.pgRestorePath ? { pgRestorePath: config.pgRestorePath } : {},
        lockTimeoutMs: config.lockTimeoutMs
      })
    ).catch((error) => {
      throw withAuthHint(error);
    });
    const storageProjects = options.storage;
    const storage = storageProjects ? await phase("storage", () => copyStorageObjects(storageProjects)) : void 0;
    if (storage) await copyObjectAttributes(options.from, options.to);
    return {
      command: "copy",
      from: source.label,
      to: target.label,
      tables: restore.counts.length,
      rows: restore.counts.reduce((sum, count) => sum + count.actual, 0),
      restore,
      ...storage ? { storage } : {},
      ok: restore.ok && (storage?.ok ?? true),
      durationMs: Math.round(performance.now() - started)
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
async function copyObjectAttributes(fromUrl, toUrl) {
  const from = await connect(fromUrl, { readOnly: true, applicationName: "supagate copy" });
  const to = await connect(toUrl, { applicationName: "supagate copy" });
  try {
    const { rows } = await from.client.query(
      `SELECT coalesce(json_agg(json_build_object('bucket_id', bucket_id, 'name', name, 'owner', owner,
              'owner_id', to_jsonb(o) ->> 'owner_id', 'user_metadata', to_jsonb(o) -> 'user_metadata')), '[]') AS objects
         FROM storage.objects o
        WHERE owner IS NOT NULL OR to_jsonb(o) ->> 'owner_id' IS NOT NULL
           OR jsonb_typeof(to_jsonb(o) -> 'user_metadata') IS DISTINCT FROM 'null'`
    );
    const { rows: columns } = await to.client.query(
      `SELECT attname AS name FROM pg_attribute
        WHERE attrelid = 'storage.objects'::regclass AND attname IN ('owner_id', 'user_metadata') AND NOT attisdropped`
    );
    const has = new Set(columns.map((column) => column.name));
    const set = [
      "owner = x.owner",
      ...has.has("owner_id") ? ["owner_id = x.owner_id"] : [],
      ...has.has("user_metadata") ? ["user_metadata = x.user_metadata"] : []
    ];
    const result = await to.client.query(
      `UPDATE storage.objects o SET ${set.join(", ")}
         FROM json_to_recordset($1) AS x(bucket_id text, name text, owner uuid, owner_id text, user_metadata jsonb)
        WHERE o.bucket_id = x.bucket_id AND o.name = x.name`,
      [JSON.stringify(rows[0]?.objects ?? [])]
    );
    return result.rowCount ?? 0;
  } finally {
    await disconnect(from);
    await disconnect(to);
  }
}
function withAuthHint(error) {
  if (!(error instanceof SupagateError) || !/violates foreign key constraint/.test(error.message))
    return error;
  return new SupagateError(error.code, error.message, {
    hint: "The copied rows reference rows the target lacks, usually auth.users: supagate copies your schemas, not Supabase's auth schema. Move the users first (Supabase's project migration), then copy again. Nothing was changed.",
    details: error.details,
    cause: error
  });
}
async function assertEmpty(url, label) {
  const connection = await connect(url, { readOnly: true, applicationName: "supagate copy" });
  try {
    const { rows } = await connection.client.query(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT (n.nspname = ANY ($1)) AND n.nspname !~ '^pg_'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1 LIMIT 5`,
      [[...MANAGED_SCHEMAS]]
    );
    if (rows.length > 0) {
      throw new SupagateError(
        "COPY_TARGET_NOT_EMPTY",
        `The target ${label} already has tables (${rows.map((r) => r.name).join(", ")}${rows.length === 5 ? ", \u2026" : ""})`,
        {
          hint: "Copy into a new project, or pass --force to replace what the target has in those schemas.",
          details: { tables: rows.map((r) => r.name) }
        }
      );
    }
  } finally {
    await disconnect(connection);
  }
}

// src/core/commands/diff.ts
async function diffDatabases(fromUrl, toUrl, config) {
  if (!fromUrl || !toUrl) {
    throw new SupagateError(
      "CONFIG_INVALID",
      `diff needs two databases: ${fromUrl ? "--to" : "--from"} is missing`,
      {
        hint: 'Pass --from <url> (the "before" side) and --to <url> (the "after" side).',
        details: { setting: fromUrl ? "to" : "from" }
      }
    );
  }
  const started = performance.now();
  let from;
  let to;
  try {
    const options = {
      readOnly: true,
      statementTimeoutMs: 6e4,
      applicationName: "supagate diff (read-only)"
    };
    [from, to] = await Promise.all([connect(fromUrl, options), connect(toUrl, options)]);
    const platform = await platformOfBoth(from, to);
    const read = async (connection) => {
      const model = await introspect(connection.client, { platform });
      return { model, uncompared: await notCompared(connection.client, { platform }) };
    };
    const [fromSide, toSide] = await Promise.all([read(from), read(to)]);
    const before = fromSide.model;
    const after = toSide.model;
    const diff = diffSchemas(before, after);
    const lints = introducedLints(before, after, { apiSchemas: config.apiSchemas });
    return {
      command: "diff",
      from: from.target.label,
      to: to.target.label,
      diff,
      lints: { introduced: lints.introduced, resolved: lints.resolved, existingCount: lints.existing.length },
      access: accessMatrix(before, after, {
        roles: ["anon", "authenticated", "service_role", ...config.extraRoles]
      }),
      notCompared: notComparedChanges(fromSide.uncompared, toSide.uncompared),
      identical: diff.changes.length === 0,
      platform,
      durationMs: Math.round(performance.now() - started)
    };
  } finally {
    await disconnect(from);
    await disconnect(to);
  }
}
async function platformOfBoth(from, to) {
  const isSupabase = async (connection) => (await connection.client.query(
    `SELECT to_regclass('auth.users') IS NOT NULL AS supabase`
  )).rows[0]?.supabase === true;
  const [a, b] = await Promise.all([isSupabase(from), isSupabase(to)]);
  return a || b ? "supabase" : "plain";
}

export {
  renderJson,
  renderJsonError,
  cacheList,
  cacheClear,
  backupsList,
  copyDatabase,
  diffDatabases
};
