import { quoteIdent } from '../../sql/identifiers.js';
import { commentOf, compareText, extensionMember, type Nullable, sortedRecord } from '../introspect-sql.js';
import type { CatalogKind, CatalogScope } from './catalog-kind.js';
import { commentStatement, itemLines, renderBlocks } from './operators.js';

/*
 * Operator families and operator classes of the user schemas, not an extension's, keyed
 * `schema.name USING method`.
 *
 * Members (pg_amop operators, pg_amproc support functions) belong to the object their pg_depend
 * 'i' or 'a' dependency names: a class's own (CREATE OPERATOR CLASS … AS) or the family's loose
 * ones (ALTER OPERATOR FAMILY … ADD, and those the access method loosens: btree's cross-type
 * and optional members). A class made without FAMILY gets a family of its own name, modeled as a
 * family: the class's `family` is null then.
 */

export interface OperatorMember {
  strategy: number;
  /** regoperator text (`<(integer,integer)`, `public.===(integer,integer)`). */
  operator: string;
  /** The btree family of an ordering operator (FOR ORDER BY), null for a search operator. */
  orderFamily: Nullable<string>;
}

export interface SupportFunction {
  number: number;
  /** regprocedure text (`btint4cmp(integer,integer)`). */
  function: string;
  /** The operand types; for a class, only when they are not both its type. */
  lefttype?: string;
  righttype?: string;
}

export interface OperatorFamily {
  schema: string;
  name: string;
  method: string;
  /** Loose members, sorted. */
  operators: OperatorMember[];
  functions: SupportFunction[];
  owner: string;
  comment: Nullable<string>;
}

export interface OperatorClass {
  schema: string;
  name: string;
  method: string;
  /** format_type of the indexed type. */
  type: string;
  default: boolean;
  /** `schema.name` of its family, null when that is the family of its own name. */
  family: Nullable<string>;
  /** The index's storage type when it differs from the type. */
  storage: Nullable<string>;
  operators: OperatorMember[];
  functions: SupportFunction[];
  owner: string;
  comment: Nullable<string>;
}

interface FunctionRow {
  number: number;
  function: string;
  lefttype: string;
  righttype: string;
}

interface FamilyRow extends Omit<OperatorFamily, 'functions'> {
  id: string;
  functions: FunctionRow[];
}

interface ClassRow extends Omit<OperatorClass, 'functions'> {
  id: string;
  functions: FunctionRow[];
}

const qualified = (namespace: string, name: string) =>
  `format('%I.%I', (SELECT nn.nspname FROM pg_namespace nn WHERE nn.oid = ${namespace}), ${name})`;

/** The members of the class or family `owner` (its pg_depend 'i' or 'a' dependency). */
function membersOf(member: 'pg_amop' | 'pg_amproc', catalog: string, oid: string): string {
  return `EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${member}'::regclass AND d.objid = m.oid
    AND d.refclassid = '${catalog}'::regclass AND d.refobjid = ${oid} AND d.deptype IN ('i', 'a'))`;
}

function operatorsOf(catalog: string, oid: string): string {
  return `(SELECT coalesce(jsonb_agg(jsonb_build_object('strategy', m.amopstrategy, 'operator', m.amopopr::regoperator::text,
    'orderFamily', (SELECT ${qualified('sf.opfnamespace', 'sf.opfname')} FROM pg_opfamily sf
                     WHERE m.amoppurpose = 'o' AND sf.oid = m.amopsortfamily))), '[]')
  FROM pg_amop m WHERE ${membersOf('pg_amop', catalog, oid)})`;
}

function functionsOf(catalog: string, oid: string): string {
  return `(SELECT coalesce(jsonb_agg(jsonb_build_object('number', m.amprocnum, 'function', m.amproc::regprocedure::text,
    'lefttype', format_type(m.amproclefttype, NULL), 'righttype', format_type(m.amprocrighttype, NULL))), '[]')
  FROM pg_amproc m WHERE ${membersOf('pg_amproc', catalog, oid)})`;
}

const methodOf = (am: string) => `(SELECT a.amname::text FROM pg_am a WHERE a.oid = ${am})`;

function familiesQuery(scope: CatalogScope): string {
  return `SELECT ${qualified('f.opfnamespace', 'f.opfname')} || ' USING ' || quote_ident(${methodOf('f.opfmethod')}) AS id,
  n.nspname::text AS schema, f.opfname::text AS name, ${methodOf('f.opfmethod')} AS method,
  ${operatorsOf('pg_opfamily', 'f.oid')} AS operators, ${functionsOf('pg_opfamily', 'f.oid')} AS functions,
  pg_get_userbyid(f.opfowner)::text AS owner, ${commentOf('f.oid', 'pg_opfamily')} AS comment
FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace
WHERE f.opfnamespace IN (${scope.userSchemas})
  AND NOT ${extensionMember('pg_opfamily', 'f.oid')}`;
}

function classesQuery(scope: CatalogScope): string {
  return `SELECT ${qualified('c.opcnamespace', 'c.opcname')} || ' USING ' || quote_ident(${methodOf('c.opcmethod')}) AS id,
  n.nspname::text AS schema, c.opcname::text AS name, ${methodOf('c.opcmethod')} AS method,
  format_type(c.opcintype, NULL) AS type, c.opcdefault AS default,
  CASE WHEN f.opfnamespace <> c.opcnamespace OR f.opfname <> c.opcname
       THEN ${qualified('f.opfnamespace', 'f.opfname')} END AS family,
  CASE WHEN c.opckeytype <> 0 THEN format_type(c.opckeytype, NULL) END AS storage,
  ${operatorsOf('pg_opclass', 'c.oid')} AS operators, ${functionsOf('pg_opclass', 'c.oid')} AS functions,
  pg_get_userbyid(c.opcowner)::text AS owner, ${commentOf('c.oid', 'pg_opclass')} AS comment
FROM pg_opclass c JOIN pg_namespace n ON n.oid = c.opcnamespace JOIN pg_opfamily f ON f.oid = c.opcfamily
WHERE c.opcnamespace IN (${scope.userSchemas})
  AND NOT ${extensionMember('pg_opclass', 'c.oid')}`;
}

function sortOperators(members: OperatorMember[]): OperatorMember[] {
  return members
    .map(({ strategy, operator, orderFamily }) => ({ strategy, operator, orderFamily }))
    .sort((a, b) => a.strategy - b.strategy || compareText(a.operator, b.operator));
}

/** Sorted; the operand types left out when both are `classType`. */
function supportFunctions(rows: FunctionRow[], classType?: string): SupportFunction[] {
  return rows
    .map(
      ({ number, function: fn, lefttype, righttype }): SupportFunction =>
        lefttype === classType && righttype === classType
          ? { number, function: fn }
          : { number, function: fn, lefttype, righttype },
    )
    .sort(
      (a, b) =>
        a.number - b.number ||
        compareText(a.lefttype ?? '', b.lefttype ?? '') ||
        compareText(a.righttype ?? '', b.righttype ?? '') ||
        compareText(a.function, b.function),
    );
}

function assembleFamilies(rows: FamilyRow[]): Record<string, OperatorFamily> {
  return sortedRecord(
    rows.map(({ id, ...row }): [string, OperatorFamily] => [
      id,
      { ...row, operators: sortOperators(row.operators), functions: supportFunctions(row.functions) },
    ]),
  );
}

function assembleClasses(rows: ClassRow[]): Record<string, OperatorClass> {
  return sortedRecord(
    rows.map(({ id, ...row }): [string, OperatorClass] => [
      id,
      {
        ...row,
        operators: sortOperators(row.operators),
        functions: supportFunctions(row.functions, row.type),
      },
    ]),
  );
}

function operatorItem(member: OperatorMember): string {
  const purpose = member.orderFamily === null ? '' : ` FOR ORDER BY ${member.orderFamily}`;
  return `OPERATOR ${member.strategy} ${member.operator}${purpose}`;
}

function functionItem(member: SupportFunction, classType?: string): string {
  const types = `(${member.lefttype ?? classType}, ${member.righttype ?? classType})`;
  return `FUNCTION ${member.number} ${types} ${member.function}`;
}

function familyDdl(family: OperatorFamily, v: number): string {
  const name = `${quoteIdent(family.schema, v)}.${quoteIdent(family.name, v)} USING ${quoteIdent(family.method, v)}`;
  const items = [...family.operators.map(operatorItem), ...family.functions.map((f) => functionItem(f))];
  return renderBlocks([
    [`CREATE OPERATOR FAMILY ${name};`],
    items.length > 0 ? [`ALTER OPERATOR FAMILY ${name} ADD`, ...itemLines(items, ';')] : [],
    [`ALTER OPERATOR FAMILY ${name} OWNER TO ${quoteIdent(family.owner, v)};`],
    commentStatement(`OPERATOR FAMILY ${name}`, family.comment),
  ]);
}

function classDdl(opclass: OperatorClass, v: number): string {
  const qualifiedName = `${quoteIdent(opclass.schema, v)}.${quoteIdent(opclass.name, v)}`;
  const name = `${qualifiedName} USING ${quoteIdent(opclass.method, v)}`;
  const head = [
    `CREATE OPERATOR CLASS ${qualifiedName}${opclass.default ? ' DEFAULT' : ''} FOR TYPE ${opclass.type}`,
    `USING ${quoteIdent(opclass.method, v)}${opclass.family === null ? '' : ` FAMILY ${opclass.family}`} AS`,
  ].join(' ');
  const items = [
    ...opclass.operators.map(operatorItem),
    ...opclass.functions.map((f) => functionItem(f, opclass.type)),
  ];
  // STORAGE of the type itself means none: a class whose members are all its family's needs an item.
  if (opclass.storage !== null || items.length === 0)
    items.push(`STORAGE ${opclass.storage ?? opclass.type}`);
  return renderBlocks([
    [head, ...itemLines(items, ';')],
    [`ALTER OPERATOR CLASS ${name} OWNER TO ${quoteIdent(opclass.owner, v)};`],
    commentStatement(`OPERATOR CLASS ${name}`, opclass.comment),
  ]);
}

export const operatorFamilyKind: CatalogKind<FamilyRow, OperatorFamily> = {
  kind: 'operator family',
  key: 'operatorFamilies',
  query: familiesQuery,
  assemble: assembleFamilies,
  ddl: familyDdl,
  identity: new Set(['schema', 'name', 'method']),
};

export const operatorClassKind: CatalogKind<ClassRow, OperatorClass> = {
  kind: 'operator class',
  key: 'operatorClasses',
  query: classesQuery,
  assemble: assembleClasses,
  ddl: classDdl,
  identity: new Set(['schema', 'name', 'method']),
};
