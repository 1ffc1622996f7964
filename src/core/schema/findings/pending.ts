import type { Migration, Statement } from '../../migrations/model.js';
import type { FindingLocation } from './finding.js';
import { nameKey, type QualifiedName, relationName } from './tree.js';

/** A pending statement with the migration it belongs to. */
export interface PendingStatement {
  migration: Migration;
  statement: Statement;
}

const RELATION_TYPES = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE']);

/** A rename of a member (column, policy) of a relation, under the relation's name at the time. */
interface MemberRename {
  relation: string;
  from: string;
  to: string;
}

/**
 * The pending statements in apply order, and the names objects bore across them: a table
 * renamed in one migration and dropped in the next is dropped under its new name.
 */
export class PendingStatements {
  readonly list: PendingStatement[];
  private readonly relationRenames: [QualifiedName, QualifiedName][] = [];
  private readonly columnRenames: MemberRename[] = [];
  private readonly policyRenames: MemberRename[] = [];

  constructor(migrations: Migration[]) {
    this.list = migrations.flatMap((migration) =>
      migration.statements.map((statement) => ({ migration, statement })),
    );
    for (const { statement } of this.list) this.recordRename(statement);
  }

  /** The last statement in apply order for which `causes` holds: the state after it is what the diff shows. */
  last(causes: (statement: PendingStatement) => boolean): PendingStatement | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const candidate = this.list[i] as PendingStatement;
      if (causes(candidate)) return candidate;
    }
    return undefined;
  }

  /** The pending statement a finding is located at. */
  at(location: FindingLocation | undefined): PendingStatement | undefined {
    if (!location) return undefined;
    return this.list.find(
      ({ migration, statement }) =>
        migration.path === location.path && statement.index === location.statementIndex,
    );
  }

  /** The relation's name and every name a rename connects it to. */
  relationNames(relation: QualifiedName): QualifiedName[] {
    const names = new Map([[nameKey(relation), relation]]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [from, to] of this.relationRenames) {
        const fromKnown = names.has(nameKey(from));
        if (fromKnown === names.has(nameKey(to))) continue;
        const added = fromKnown ? to : from;
        names.set(nameKey(added), added);
        grew = true;
      }
    }
    return [...names.values()];
  }

  /** The column's name and every name a rename connects it to, on any name of its relation. */
  columnNames(relation: QualifiedName, column: string): string[] {
    return memberNames(this.columnRenames, this.relationNames(relation), column);
  }

  policyNames(relation: QualifiedName, policy: string): string[] {
    return memberNames(this.policyRenames, this.relationNames(relation), policy);
  }

  private recordRename(statement: Statement): void {
    const { tree } = statement;
    if (statement.nodeType === 'RenameStmt') {
      const relation = relationName(tree.relation);
      const newName = tree.newname;
      if (!relation || typeof newName !== 'string') return;
      const type = String(tree.renameType);
      if (RELATION_TYPES.has(type)) this.relationRenames.push([relation, { ...relation, name: newName }]);
      const member = { relation: nameKey(relation), from: String(tree.subname), to: newName };
      if (type === 'OBJECT_COLUMN') this.columnRenames.push(member);
      if (type === 'OBJECT_POLICY') this.policyRenames.push(member);
    }
    if (statement.nodeType === 'AlterObjectSchemaStmt' && RELATION_TYPES.has(String(tree.objectType))) {
      const relation = relationName(tree.relation);
      if (relation && typeof tree.newschema === 'string')
        this.relationRenames.push([relation, { ...relation, schema: tree.newschema }]);
    }
  }
}

function memberNames(renames: MemberRename[], relations: QualifiedName[], member: string): string[] {
  const keys = new Set(relations.map(nameKey));
  const names = new Set([member]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const rename of renames) {
      if (!keys.has(rename.relation) || names.has(rename.from) === names.has(rename.to)) continue;
      names.add(rename.from);
      names.add(rename.to);
      grew = true;
    }
  }
  return [...names];
}

export function locationOf({ migration, statement }: PendingStatement): FindingLocation {
  return {
    path: migration.path,
    version: migration.version,
    line: statement.line,
    statementIndex: statement.index,
    statement: statement.sql,
  };
}
