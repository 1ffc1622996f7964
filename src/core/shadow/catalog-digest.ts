import { type Client, type Connection, connect, disconnect } from '../db/connect.js';
import { quoteIdent } from '../sql/identifiers.js';

/*
 * A digest of one database's own catalogs: md5 over every row of every table of pg_catalog that
 * is not shared across the cluster, in the order they are stored. A data directory copied file
 * by file and started has its original's digest; a catalog row added, removed or changed
 * (a table planted in a kept baseline, a function body edited) changes it. It is how a started
 * copy of a kept shadow baseline shows it is the baseline as kept, in a fifth of the time a
 * full read of its schema takes.
 *
 * Left out: the planner's statistics and the columns the server updates by itself (size
 * estimates, freeze horizons, flags VACUUM clears), which autovacuum may change between
 * keeping and starting; and
 * the shared catalogs (roles, databases), which the run changes when it sets up its migration
 * role, and whose role attributes checkCannotEscalate checks at every start.
 */

const LEFT_OUT = new Set(['pg_statistic', 'pg_statistic_ext_data']);
const CHANGED_BY_THE_SERVER: Record<string, Set<string>> = {
  // relhasindex and relhassubclass are kept true until a VACUUM finds no index or child.
  pg_class: new Set([
    'relpages',
    'reltuples',
    'relallvisible',
    'relfrozenxid',
    'relminmxid',
    'relhasindex',
    'relhassubclass',
  ]),
};

/**
 * The digest of the database at `url` (a superuser's or owner's session). The catalogs are
 * read by two sessions at once, each a share of them by size (the server scans them on two
 * cores), and their digests are combined by the server as one query over all of them did.
 */
export async function catalogDigest(url: string): Promise<string> {
  const sessions = await Promise.allSettled(
    [0, 1].map(() => connect(url, { applicationName: 'supagate shadow check' })),
  );
  const opened = sessions.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const refused = sessions.find((s) => s.status === 'rejected');
  if (refused) {
    // One session opened and the other not: the one that did is not left open.
    await Promise.all(opened.map(disconnect));
    throw refused.reason;
  }
  const [first, second] = opened as [Connection, Connection];
  try {
    const { rows } = await first.client.query<{ catalog: string; columns: string[]; pages: number }>(
      `SELECT c.relname AS catalog, array_agg(a.attname::text ORDER BY a.attnum) AS columns,
              max(c.relpages)::int AS pages
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r' AND NOT c.relisshared
       GROUP BY c.relname ORDER BY c.relname`,
    );
    const shares = twoShares(rows.filter(({ catalog }) => !LEFT_OUT.has(catalog)));
    const digests = (
      await Promise.all([digestsOf(first.client, shares[0]), digestsOf(second.client, shares[1])])
    ).flat();
    const combined = await first.client.query<{ digest: string }>(
      `SELECT md5(string_agg(catalog || ' ' || digest, E'\\n' ORDER BY catalog)) AS digest
       FROM unnest($1::text[], $2::text[]) AS d(catalog, digest)`,
      [digests.map((d) => d.catalog), digests.map((d) => d.digest)],
    );
    return combined.rows[0]?.digest ?? '';
  } finally {
    await Promise.all(opened.map(disconnect));
  }
}

interface CatalogColumns {
  catalog: string;
  columns: string[];
  pages: number;
}

/** The catalogs in two shares of about equal size, the largest placed first. */
function twoShares(catalogs: CatalogColumns[]): [CatalogColumns[], CatalogColumns[]] {
  const shares: [CatalogColumns[], CatalogColumns[]] = [[], []];
  const sizes = [0, 0];
  for (const catalog of [...catalogs].sort((a, b) => b.pages - a.pages)) {
    const smaller = (sizes[0] as number) <= (sizes[1] as number) ? 0 : 1;
    shares[smaller].push(catalog);
    sizes[smaller] = (sizes[smaller] as number) + catalog.pages + 1;
  }
  return shares;
}

/** md5 of each catalog's rows in stored order (the columns the server changes by itself left out). */
async function digestsOf(
  client: Client,
  catalogs: CatalogColumns[],
): Promise<{ catalog: string; digest: string }[]> {
  if (catalogs.length === 0) return [];
  const parts = catalogs.map(({ catalog, columns }) => {
    const changing = CHANGED_BY_THE_SERVER[catalog];
    const kept = columns
      .filter((column) => !changing?.has(column))
      .map((column) => `t.${quoteIdent(column)}`);
    return `SELECT ${client.escapeLiteral(catalog)} AS catalog,
      md5(coalesce(string_agg(ROW(${kept.join(', ')})::text, E'\\n'), '')) AS digest
      FROM pg_catalog.${quoteIdent(catalog)} t`;
  });
  const results = (await client.query(
    [
      'BEGIN READ ONLY',
      // One process scanning each catalog from its start: rows come in stored order.
      'SET LOCAL max_parallel_workers_per_gather = 0',
      'SET LOCAL synchronize_seqscans = off',
      'SET LOCAL jit = off',
      parts.join('\nUNION ALL\n'),
      'COMMIT',
    ].join(';\n'),
  )) as unknown as { rows: { catalog: string; digest: string }[] }[];
  return results[4]?.rows ?? [];
}
