import { quoteIdent } from '../sql/identifiers.js';
import { quoteLiteral } from '../sql/quote.js';

// Small helpers the renderers of the normalized DDL (ddl.ts) share.

export type Block = string[];

export function render(blocks: Block[]): string {
  return `${blocks
    .filter((block) => block.length > 0)
    .map((block) => block.join('\n'))
    .join('\n\n')}\n`;
}

export function comment(on: string, text: string | null): string[] {
  return text === null ? [] : [`COMMENT ON ${on} IS ${quoteLiteral(text)};`];
}

export function byName<T extends { name: string }>(record: Record<string, T>): T[] {
  return Object.values(record).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Collations come as names (`C`) or already quoted (`"C"`, `pg_catalog."C"`). */
export function collationSql(collation: string, v: number): string {
  return collation.includes('"') || collation.includes('.') ? collation : quoteIdent(collation, v);
}

export function statement(definition: string): string {
  const trimmed = definition.trimEnd();
  return trimmed.endsWith(';') ? trimmed : `${trimmed};`;
}

export function dollarQuote(body: string): string {
  let tag = '$function$';
  for (let n = 1; body.includes(tag); n++) tag = `$function${n}$`;
  return `${tag}${body}${tag}`;
}
