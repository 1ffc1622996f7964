import { createHash, type Hash } from 'node:crypto';
import type { SchemaModel } from './model.js';

/**
 * The fingerprint of a schema model: a SHA-256 of its canonical JSON (keys sorted, size
 * estimates left out). Plans, approvals and backup manifests record it, so its bytes must not
 * change between versions: the canonical text is the one earlier versions built as one string,
 * now fed to the hash piece by piece (a model of thousands of tables is never held as text).
 */
export function fingerprintOf(model: SchemaModel): string {
  let fingerprint = computed.get(model);
  if (fingerprint === undefined) {
    fingerprint = compute(model);
    computed.set(model, fingerprint);
  }
  return fingerprint;
}

/**
 * A plan fingerprints the same model up to three times (its result, the shadow cache's key, the
 * cached shadow's check): once is enough. What changes a model after it is read (size
 * estimates) is not part of its fingerprint.
 */
const computed = new WeakMap<SchemaModel, string>();

function compute(model: SchemaModel): string {
  const tables = Object.fromEntries(
    Object.entries(model.tables).map(([id, { stats: _stats, ...table }]) => [id, table]),
  );
  const hash = new ChunkedHash();
  hashCanonical(hash, { ...model, tables });
  return hash.digest();
}

/** Text fed to SHA-256 in chunks of about 64 KiB: fewer calls than one per token, no whole copy. */
class ChunkedHash {
  private readonly hash: Hash = createHash('sha256');
  private pending = '';

  update(text: string): void {
    this.pending += text;
    if (this.pending.length >= 65_536) {
      this.hash.update(this.pending);
      this.pending = '';
    }
  }

  digest(): string {
    return this.hash.update(this.pending).digest('hex');
  }
}

function hashCanonical(hash: ChunkedHash, value: unknown): void {
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, i) => {
      if (i > 0) hash.update(',');
      hashCanonical(hash, item);
    });
    hash.update(']');
  } else if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    hash.update('{');
    entries.forEach(([key, item], i) => {
      hash.update(i > 0 ? `,${JSON.stringify(key)}:` : `${JSON.stringify(key)}:`);
      hashCanonical(hash, item);
    });
    hash.update('}');
  } else {
    hash.update(JSON.stringify(value) ?? 'null');
  }
}
