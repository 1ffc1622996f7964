import type { Client } from '../db/connect.js';
import { fingerprintOf } from '../schema/fingerprint.js';
import { introspect } from '../schema/introspect.js';

const SAVEPOINT = 'supagate_fingerprint';

/**
 * The fingerprint of the schema model (the plan's: introspect → fingerprintOf) as the current
 * transaction sees it: the backup's snapshot, or a restore before its COMMIT. introspect() opens
 * and commits a transaction of its own; here its BEGIN becomes a savepoint and its COMMIT a
 * rollback to it, so it reads inside the caller's transaction and leaves its settings as they were.
 */
export async function schemaFingerprintInTransaction(client: Client): Promise<string> {
  const model = await introspect(inSavepoint(client));
  await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
  return fingerprintOf(model);
}

function inSavepoint(client: Client): Client {
  const rewrite = (text: string) =>
    text
      .replace(/^BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY/, `SAVEPOINT ${SAVEPOINT}`)
      .replace(/\nCOMMIT$/, `\nROLLBACK TO SAVEPOINT ${SAVEPOINT}`)
      .replace(/^ROLLBACK$/, `ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
  return new Proxy(client, {
    get(target, property) {
      if (property !== 'query') return Reflect.get(target, property, target);
      return (text: unknown, ...rest: unknown[]) =>
        (target.query as (...args: unknown[]) => unknown)(
          typeof text === 'string' ? rewrite(text) : text,
          ...rest,
        );
    },
  });
}
