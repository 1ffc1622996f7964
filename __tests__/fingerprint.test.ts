import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../src/core/schema/fingerprint.js';
import type { SchemaModel } from '../src/core/schema/model.js';
import { model as buildModel, profilesTable } from './harness/model-factory.js';

describe('fingerprintOf', () => {
  it('is the digest earlier versions recorded in plans, approvals and backup manifests', () => {
    // The canonical text of this model was hashed as one string before fingerprint.ts streamed
    // it: a changed digest would make every recorded approval and backup fingerprint mismatch.
    const model = buildModel((m) => profilesTable(m));
    expect(fingerprintOf(model)).toBe(FROZEN);
  });

  it('ignores size estimates and key order, and sees any other change', () => {
    const model = buildModel((m) => profilesTable(m));
    const withStats = structuredClone(model);
    (withStats.tables['public.profiles'] as { stats?: unknown }).stats = { rows: 10, bytes: 8192 };
    expect(fingerprintOf(withStats)).toBe(fingerprintOf(model));
    const reordered = Object.fromEntries(Object.entries(model).reverse()) as unknown as SchemaModel;
    expect(fingerprintOf(reordered)).toBe(fingerprintOf(model));
    const changed = structuredClone(model);
    (changed.tables['public.profiles'] as { rlsEnabled: boolean }).rlsEnabled =
      !model.tables['public.profiles']?.rlsEnabled;
    expect(fingerprintOf(changed)).not.toBe(fingerprintOf(model));
  });
});

/** Computed from the one-string canonical JSON that fingerprintOf hashed before this module. */
const FROZEN = '5fdfea252d6e3c2d7d2bab1042f68b56caa531f5f5090468bc883c09daf5dd77';

describe('fingerprintOf, streamed', () => {
  it('hashes exactly the one-string canonical JSON, whatever the text holds', () => {
    const awkward = [
      'plain',
      'quote " and backslash \\',
      'line\nbreak\ttab\u0000nul\u001f',
      'separators \u2028\u2029',
      'lone surrogates \ud800 x \udfff',
      'emoji 🐘 and ß',
      '',
    ];
    const many = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`k${(i * 7) % 40}`, { z: i, a: [i, `${i}`] }]),
    );
    const model = buildModel((m) => profilesTable(m));
    const odd = {
      ...model,
      comments: awkward,
      nested: [[], [[1, -0, 1.5e300, Number.NaN, Number.POSITIVE_INFINITY]], { '"key"': null }],
      missing: { gone: undefined, kept: false },
      many,
      'é-key': { Z: 1, a: 2, _: 3, B: 4 },
    } as unknown as SchemaModel;
    const { stats: _stats, ...profiles } = model.tables['public.profiles'] as { stats?: unknown };
    const expected = sha256(canonical({ ...odd, tables: { 'public.profiles': profiles } }));
    expect(fingerprintOf(odd)).toBe(expected);
  });
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The canonical JSON as earlier versions built it, in one string. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
