import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { apply } from '../src/core/commands/apply.js';
import { copyDatabase, copyObjectAttributes } from '../src/core/commands/copy.js';
import { resolveConfig } from '../src/core/config.js';
import { SupagateError } from '../src/core/errors.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';
import { FakeSupabaseStorageServer } from './harness/fake-supabase-storage.js';
import { demoApp } from './harness/project.js';

let source: TestDatabase;
let target: TestDatabase;

beforeEach(async () => {
  source = await createTestDatabase();
  target = await createTestDatabase();
  const applied = await apply(
    resolveConfig({ ...demoApp(), dbUrl: source.url, backup: 'off', verify: 'off' }),
  );
  expect(applied.status).toBe('applied');
  await source.query(`
    insert into auth.users (id, email) values ('00000000-0000-0000-0000-0000000000a1', 'a@example.com');
    insert into public.profiles (id, username) values ('00000000-0000-0000-0000-0000000000a1', 'a');
    insert into public.posts (author_id, title, published) select '00000000-0000-0000-0000-0000000000a1', 'post ' || g, g % 2 = 0 from generate_series(1, 25) g;`);
});
afterEach(async () => {
  await source.drop();
  await target.drop();
});

async function digest(db: TestDatabase, table: string): Promise<string | null> {
  const [row] = await db.query<{ md5: string | null }>(
    `select md5(string_agg(t::text, ',' order by t::text)) as md5 from ${table} t`,
  );
  return row?.md5 ?? null;
}

describe('copy', () => {
  it('copies the project into an empty instance: rows, policies and history identical', async () => {
    // The target instance has its own auth users (another project): copy moves the app's data.
    await target.query(
      `insert into auth.users (id, email) values ('00000000-0000-0000-0000-0000000000a1', 'a@example.com')`,
    );
    const result = await copyDatabase(resolveConfig({}), { from: source.url, to: target.url });
    expect(result.ok).toBe(true);
    expect(result.tables).toBeGreaterThan(0);
    for (const table of [
      'public.profiles',
      'public.posts',
      'public.comments',
      'supabase_migrations.schema_migrations',
      'storage.buckets',
    ]) {
      expect(await digest(target, table), table).toBe(await digest(source, table));
    }
    const policies = `select count(*)::int as n from pg_policies where schemaname in ('public', 'storage')`;
    expect(await target.query(policies)).toEqual(await source.query(policies));
  });

  it('explains a target that lacks the auth users the rows reference, and changes nothing', async () => {
    const error = await copyDatabase(resolveConfig({}), { from: source.url, to: target.url }).catch(
      (e: unknown) => e,
    );
    expect((error as SupagateError).code).toBe('RESTORE_FAILED');
    expect((error as SupagateError).hint).toContain('auth.users');
    const [left] = await target.query(`select to_regclass('public.profiles') is null as clean`);
    expect(left).toEqual({ clean: true });
  });

  it('refuses a target that already has tables unless --force', async () => {
    await target.query('create table public.existing (id int)');
    const error = await copyDatabase(resolveConfig({}), { from: source.url, to: target.url }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SupagateError);
    expect((error as SupagateError).code).toBe('COPY_TARGET_NOT_EMPTY');
    expect((error as SupagateError).message).toContain('public.existing');
    const [still] = await target.query(`select to_regclass('public.existing') is not null as present`);
    expect(still).toEqual({ present: true });
  });

  it('copies the Storage files too, verified, and gives objects back their owners and user metadata', async () => {
    const sourceKey = `source-${randomBytes(8).toString('hex')}`;
    const targetKey = `target-${randomBytes(8).toString('hex')}`;
    const sourceStorage = new FakeSupabaseStorageServer(sourceKey);
    const targetStorage = new FakeSupabaseStorageServer(targetKey);
    await Promise.all([sourceStorage.start(), targetStorage.start()]);
    try {
      sourceStorage.buckets.set('avatars', { public: true });
      sourceStorage.put('avatars', 'a1/avatar.png', randomBytes(4096), 'image/png');
      await source.query(`insert into storage.objects (bucket_id, name, owner, user_metadata)
        values ('avatars', 'a1/avatar.png', '00000000-0000-0000-0000-0000000000a1', '{"alt": "Ada, smiling"}')`);
      await target.query(
        `insert into auth.users (id, email) values ('00000000-0000-0000-0000-0000000000a1', 'a@example.com')`,
      );

      const result = await copyDatabase(resolveConfig({}), {
        from: source.url,
        to: target.url,
        storage: {
          from: { url: sourceStorage.url, serviceKey: sourceKey },
          to: { url: targetStorage.url, serviceKey: targetKey },
        },
      });
      expect(result.ok).toBe(true);
      expect(result.storage?.buckets).toEqual([
        expect.objectContaining({ id: 'avatars', objects: 1, copied: 1, mismatches: [] }),
      ]);
      // What a Storage upload with a service key leaves: a row without owner or user metadata.
      // Both come back.
      await target.query(`update storage.objects set owner = null, user_metadata = null`);
      expect(await copyObjectAttributes(source.url, target.url)).toBe(1);
      const [row] = await target.query(
        `select owner, user_metadata from storage.objects where name = 'a1/avatar.png'`,
      );
      expect(row).toEqual({
        owner: '00000000-0000-0000-0000-0000000000a1',
        user_metadata: { alt: 'Ada, smiling' },
      });
    } finally {
      await Promise.all([sourceStorage.stop(), targetStorage.stop()]);
    }
  });

  it('runs from the CLI and says what it is missing', async () => {
    let out = '';
    const write = (text: string) => {
      out += text;
    };
    const io = { stdout: write, stderr: write, env: {} };
    expect(await runCli(['copy', '--from', source.url], io)).toBe(1);
    expect(out).toContain('--to is missing');
    out = '';
    expect(await runCli(['copy', '--from', source.url, '--to', target.url, '--storage'], io)).toBe(1);
    expect(out).toContain(
      'copy --storage needs --from-supabase-url, --to-supabase-url, $SUPAGATE_FROM_SERVICE_KEY',
    );
  });
});
