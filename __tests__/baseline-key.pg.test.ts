import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, disconnect } from '../src/core/db/connect.js';
import { introspect } from '../src/core/schema/introspect.js';
import { baselineKey, readingsOf } from '../src/core/shadow/baseline-key.js';
import { createTestDatabase, type TestDatabase } from './harness/db.js';

/*
 * A kept shadow baseline serves a plan only under the key of everything that shapes the shadow:
 * each of these changes must give another key, and nothing else may.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.query('create table public.notes (id bigint primary key)');
});
afterAll(async () => {
  await db.drop();
});

async function keyOf(url: string, shadowServer = 'embedded postgres (PostgreSQL) 15.8', schemas?: string[]) {
  const connection = await connect(url, { readOnly: true });
  try {
    const productionModel = await introspect(connection.client);
    return baselineKey(await readingsOf(connection.client, schemas), {
      productionUrl: url,
      productionModel,
      schemas,
      shadowServer,
    });
  } finally {
    await disconnect(connection);
  }
}

describe('the baseline key', () => {
  it('is the same for the same production, shadow server and scope', async () => {
    expect(await keyOf(db.url)).toBe(await keyOf(db.url));
  });

  it('differs with the shadow server’s version and with the schemas planned', async () => {
    const key = await keyOf(db.url);
    expect(await keyOf(db.url, 'embedded postgres (PostgreSQL) 16.4')).not.toBe(key);
    expect(await keyOf(db.url, undefined, ['public'])).not.toBe(key);
  });

  it('differs with another target holding the same schema', async () => {
    const other = await createTestDatabase();
    try {
      await other.query('create table public.notes (id bigint primary key)');
      expect(await keyOf(other.url)).not.toBe(await keyOf(db.url));
    } finally {
      await other.drop();
    }
  });

  it('differs when what the model leaves out changes: a managed schema’s function, a role, a role’s setting, an object not compared', async () => {
    const changes = [
      `create or replace function auth.uid() returns uuid language sql stable as $$ select null::uuid $$`,
      'create role supagate_key_test nologin',
      `alter role authenticated in database ${db.name} set statement_timeout = '8s'`,
      "create conversion public.ci for 'LATIN1' to 'UTF8' from iso8859_1_to_utf8",
      'alter table public.notes add column body text',
    ];
    try {
      for (const change of changes) {
        const before = await keyOf(db.url);
        await db.query(change);
        expect(await keyOf(db.url), change).not.toBe(before);
      }
    } finally {
      await db.query('drop role if exists supagate_key_test');
    }
  });
});
