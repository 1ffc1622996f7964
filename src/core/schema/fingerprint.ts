import { createHash, type Hash } from 'node:crypto';
import type { SchemaModel } from './model.js';

/**
 * The fingerprint of a schema model: a SHA-256 of its canonical JSON (keys sorted, size
 * estimates left out, a key whose value is undefined written as null). Plans, approvals and
 * backup manifests record it, so its bytes must not change between versions: the canonical
 * text is the one earlier versions built as one string, now fed to the hash piece by piece (a
 * model of thousands of tables is never held as text).
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
  const text = new CanonicalText();
  text.value({ ...model, tables });
  return text.digest();
}

/**
 * Canonical JSON written straight into a SHA-256 in chunks of about 64 KiB. A model of 2,000
 * tables is millions of tokens: the walk allocates nothing per token but the text itself (no
 * entry pairs, no sort buffers, no per-key strings), which made the fingerprint the largest
 * allocator of a plan.
 */
class CanonicalText {
  private readonly hash: Hash = createHash('sha256');
  private pending = '';
  /** `"key":` for each key seen, since the same few dozen keys repeat throughout a model. */
  private readonly keys = new Map<string, string>();

  value(value: unknown): void {
    if (typeof value === 'string') this.string(value);
    else if (Array.isArray(value)) this.array(value);
    else if (value !== null && typeof value === 'object') this.object(value as Record<string, unknown>);
    else this.add(JSON.stringify(value) ?? 'null');
  }

  digest(): string {
    return this.hash.update(this.pending).digest('hex');
  }

  private array(items: unknown[]): void {
    this.add('[');
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.add(',');
      this.value(items[i]);
    }
    this.add(']');
  }

  private object(record: Record<string, unknown>): void {
    const keys = sortInPlace(Object.keys(record));
    this.add('{');
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (i > 0) this.add(',');
      this.add(this.quotedKey(key));
      this.value(record[key]);
    }
    this.add('}');
  }

  private string(text: string): void {
    if (NEEDS_ESCAPE.test(text)) {
      this.add(JSON.stringify(text));
      return;
    }
    this.add('"');
    this.add(text);
    this.add('"');
  }

  private quotedKey(key: string): string {
    let quoted = this.keys.get(key);
    if (quoted === undefined) {
      quoted = `${JSON.stringify(key)}:`;
      this.keys.set(key, quoted);
    }
    return quoted;
  }

  private add(text: string): void {
    this.pending += text;
    if (this.pending.length >= 65_536) {
      this.hash.update(this.pending);
      this.pending = '';
    }
  }
}

/** What JSON.stringify writes other than as itself: quote, backslash, controls, surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Object keys in UTF-16 code unit order (as `a < b`), sorted in place. Nearly every object of a
 * model has a few dozen keys at most, sorted here by insertion: Array.prototype.sort copies
 * into a work buffer on each call. Records keyed by object id (thousands of tables) use it.
 */
function sortInPlace(keys: string[]): string[] {
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}
