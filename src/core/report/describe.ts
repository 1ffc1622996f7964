import type { LockEstimate } from '../schema/hazards.js';
import { formatBytes } from './progress.js';

/** Words shared by the text and markdown renderers. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

export function shortValue(value: unknown, max = 200): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * What the schema model calls an attribute (`rlsEnabled`, `notNull`), in the words a reviewer
 * knows from PostgreSQL and Supabase.
 */
const ATTRIBUTE_LABELS: Record<string, string> = {
  rlsEnabled: 'RLS',
  rlsForced: 'RLS forced (FORCE ROW LEVEL SECURITY)',
  notNull: 'NOT NULL',
  dataType: 'type',
  default: 'default',
  comment: 'comment',
  grants: 'grants',
  owner: 'owner',
  securityInvoker: 'security_invoker',
  securityBarrier: 'security_barrier',
  securityDefiner: 'SECURITY DEFINER',
  checkOption: 'check option',
  withCheck: 'WITH CHECK',
  using: 'USING',
  permissive: 'permissive',
  roles: 'roles',
  command: 'command',
  identity: 'identity',
  generated: 'generated',
  collation: 'collation',
  replicaIdentity: 'replica identity',
  partitionKey: 'partition key',
  partitionOf: 'partition of',
  partitionBound: 'partition bound',
  definition: 'definition',
  deferrable: 'DEFERRABLE',
  initiallyDeferred: 'INITIALLY DEFERRED',
  valid: 'valid',
  validated: 'validated',
  enabled: 'enabled',
  populated: 'populated',
  unique: 'UNIQUE',
  primary: 'PRIMARY KEY',
  references: 'references',
  onDelete: 'ON DELETE',
  onUpdate: 'ON UPDATE',
  volatility: 'volatility',
  leakproof: 'LEAKPROOF',
  parallel: 'PARALLEL',
  strict: 'STRICT',
  returns: 'returns',
  language: 'language',
  body: 'body',
  config: 'settings (SET)',
  public: 'public bucket',
  fileSizeLimit: 'file size limit',
  allowedMimeTypes: 'allowed MIME types',
  increment: 'INCREMENT',
  min: 'MINVALUE',
  max: 'MAXVALUE',
  start: 'START',
  cache: 'CACHE',
  cycle: 'CYCLE',
  ownedBy: 'OWNED BY',
  allTables: 'FOR ALL TABLES',
  baseType: 'base type',
  identityArguments: 'arguments',
  objectType: 'object type',
  allowedRoles: 'roles',
  persistence: 'UNLOGGED / LOGGED',
  storageParameters: 'storage parameters (WITH)',
  inherits: 'INHERITS',
  inherited: 'inherited from',
  statistics: 'SET STATISTICS',
  storage: 'SET STORAGE',
  columnLists: 'column lists',
  rowFilters: 'row filters (WHERE)',
  subtype: 'SUBTYPE',
  subtypeOpclass: 'SUBTYPE_OPCLASS',
  canonical: 'CANONICAL',
  subtypeDiff: 'SUBTYPE_DIFF',
  multirange: 'MULTIRANGE_TYPE_NAME',
  provider: 'provider',
  locale: 'locale',
  lcCollate: 'LC_COLLATE',
  lcCtype: 'LC_CTYPE',
  deterministic: 'deterministic',
  rules: 'ICU rules',
  instead: 'DO INSTEAD',
  event: 'event',
  tags: 'WHEN TAG IN',
  function: 'function',
  // Operators, operator families and classes (kinds/operators.ts, kinds/operator-families.ts).
  left: 'LEFTARG',
  right: 'RIGHTARG',
  commutator: 'COMMUTATOR',
  negator: 'NEGATOR',
  restrict: 'RESTRICT (selectivity)',
  join: 'JOIN (selectivity)',
  hashes: 'HASHES',
  merges: 'MERGES',
  operators: 'operators',
  functions: 'support functions',
  family: 'FAMILY',
  // Casts, extended statistics, text search (kinds/).
  method: 'method',
  context: 'context (AS ASSIGNMENT / AS IMPLICIT)',
  kinds: 'statistics kinds',
  expressions: 'expressions',
  template: 'TEMPLATE',
  options: 'options',
  parser: 'PARSER',
  mappings: 'token mappings',
  // Aggregates (schema/aggregates.ts): CREATE AGGREGATE's own option names.
  'aggregate.kind': 'aggregate kind (ordered-set, hypothetical)',
  'aggregate.directArgs': 'direct arguments',
  'aggregate.sfunc': 'SFUNC',
  'aggregate.stype': 'STYPE',
  'aggregate.sspace': 'SSPACE',
  'aggregate.finalfunc': 'FINALFUNC',
  'aggregate.finalfuncExtra': 'FINALFUNC_EXTRA',
  'aggregate.finalfuncModify': 'FINALFUNC_MODIFY',
  'aggregate.combinefunc': 'COMBINEFUNC',
  'aggregate.serialfunc': 'SERIALFUNC',
  'aggregate.deserialfunc': 'DESERIALFUNC',
  'aggregate.initcond': 'INITCOND',
  'aggregate.msfunc': 'MSFUNC',
  'aggregate.minvfunc': 'MINVFUNC',
  'aggregate.mstype': 'MSTYPE',
  'aggregate.msspace': 'MSSPACE',
  'aggregate.mfinalfunc': 'MFINALFUNC',
  'aggregate.mfinalfuncExtra': 'MFINALFUNC_EXTRA',
  'aggregate.mfinalfuncModify': 'MFINALFUNC_MODIFY',
  'aggregate.minitcond': 'MINITCOND',
  'aggregate.sortop': 'SORTOP',
};

export function attributeLabel(attribute: string): string {
  const dot = attribute.indexOf('.');
  // One key of a record-valued attribute: `mappings.asciiword` → token mappings (asciiword).
  if (dot > 0 && ATTRIBUTE_LABELS[attribute] === undefined)
    return `${attributeLabel(attribute.slice(0, dot))} (${attribute.slice(dot + 1)})`;
  return (
    ATTRIBUTE_LABELS[attribute] ??
    attribute
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .replace(/_/g, ' ')
      .toLowerCase()
  );
}

/** A boolean attribute's value in words: RLS on/off, NOT NULL yes/no. */
export function booleanWord(attribute: string, value: boolean): string {
  if (attribute === 'rlsEnabled' || attribute === 'rlsForced' || attribute === 'enabled')
    return value ? 'enabled' : 'disabled';
  return value ? 'yes' : 'no';
}

/** `holds ACCESS EXCLUSIVE (blocks reads and writes) for about 7 s to 41 s (a rewrite of 1.0 GB)`. */
export function describeLockEstimate(estimate: LockEstimate): string {
  const { low, high } = estimate.seconds;
  const span =
    high < 1
      ? 'under a second'
      : low < 1
        ? `up to ${roughly(high)}`
        : `about ${roughly(low)} to ${roughly(high)}`;
  const article = estimate.work === 'index build' ? 'an' : 'a';
  return `holds ${estimate.lock} (blocks ${estimate.blocks}) for ${span} (${article} ${estimate.work} of ${formatBytes(estimate.tableBytes)})`;
}

/** An estimate's seconds, as coarse as the estimate: `7 s`, `17 min`, `1.5 h`. */
function roughly(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
