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
