import type { Bucket, Policy, SchemaModel } from '../model.js';
import { isLiteralTrue } from '../rls.js';
import { compare, type LintContext, plural, quoted, sortedValues } from './util.js';

/** The roles whose SELECT policies let clients list a bucket: anyone with the anon key, or signed in. */
const LISTING_ROLES = ['PUBLIC', 'anon', 'authenticated'];

/** The object of a public_bucket_allows_listing finding. */
export function bucketObject(bucket: Bucket): string {
  return `bucket ${quoted(bucket.id)}`;
}

/**
 * public_bucket_allows_listing: a public bucket (storage.buckets.public) with a broad SELECT
 * policy on storage.objects: permissive, FOR SELECT or ALL, for PUBLIC, anon or authenticated,
 * whose USING is absent, literally true (or 1=1), or exactly `bucket_id = '<the bucket>'`. Public
 * buckets serve their files by URL without any policy; such a policy only adds the right to list
 * (and search) every file of the bucket through the Storage API. Narrower policies (on the
 * owner, a folder…) are not flagged. One finding per bucket, naming its policies.
 */
export function lintStorage({ model, add }: LintContext): void {
  const buckets = Object.values(model.buckets).sort((a, b) => compare(a.id, b.id));
  for (const bucket of buckets) {
    if (!bucket.public) continue;
    const policies = listingPolicies(model, bucket.id).map((p) => p.name);
    if (policies.length === 0) continue;
    add(
      'public_bucket_allows_listing',
      bucketObject(bucket),
      `Public bucket ${quoted(bucket.name)} has ${plural(policies.length, 'broad SELECT policy', 'broad SELECT policies')} on storage.objects (${policies.map(quoted).join(', ')}), so clients can list every file in it; a public bucket serves files by URL without any SELECT policy`,
      `Drop ${policies.length === 1 ? 'the policy' : 'the policies'} (${policies.map((p) => `DROP POLICY ${quoted(p)} ON storage.objects`).join('; ')}) if clients only download by URL, or narrow ${policies.length === 1 ? 'it' : 'them'} to what a client may list (its own folder, e.g. (storage.foldername(name))[1] = (select auth.uid())::text)`,
    );
  }
}

/** The broad SELECT policies on storage.objects that let clients list the bucket, by name. */
export function listingPolicies(model: SchemaModel, bucketId: string): Policy[] {
  const objects = model.tables['storage.objects'];
  if (!objects) return [];
  return sortedValues(objects.policies).filter(
    (policy) =>
      policy.permissive &&
      (policy.command === 'SELECT' || policy.command === 'ALL') &&
      policy.roles.some((role) => LISTING_ROLES.includes(role)) &&
      broadFor(policy.using, bucketId),
  );
}

/** USING absent, always true, or only `bucket_id = '<bucket>'` (cast and parentheses allowed). */
function broadFor(using: string | null, bucketId: string): boolean {
  if (using === null || isLiteralTrue(using)) return true;
  const compact = using.toLowerCase().replace(/\s+/g, '');
  if (compact === '1=1' || compact === '(1=1)') return true;
  const match = /^\s*\(*\s*bucket_id\s*=\s*('(?:[^']|'')*')(?:\s*::\s*[\w.]+)?\s*\)*\s*$/i.exec(using);
  return match?.[1] === `'${bucketId.replace(/'/g, "''")}'`;
}
