import type { Statement } from '../../migrations/model.js';
import type { PendingStatement, PendingStatements } from './pending.js';
import {
  addedConstraints,
  argumentsOf,
  creates,
  definedFunction,
  dropsPolicyOn,
  dropsRelation,
  dropsSchema,
  equals,
  grantsOn,
  isDefaultName,
  isDrop,
  isPolicyStatement,
  RELATION_OBJECTS,
  target,
  type Widening,
  widensFor,
} from './statement-match.js';

import {
  type AlterTableCommand,
  alterTableCommands,
  constraintsIn,
  droppedObjects,
  type QualifiedName,
  qualified,
  relationName,
  strings,
} from './tree.js';

/**
 * Which pending statement causes a change the diff shows, found by meaning in the parse trees:
 * the `ALTER TABLE … DROP COLUMN` of that column, the `DROP POLICY` of that policy… When
 * several statements could, the last one in apply order (the state after it is what the diff
 * shows). Undefined when no statement can be found: callers say so rather than name a nearby one.
 */
export type Found = PendingStatement | undefined;

/** ALTER TABLE commands that enable or disable a rule. */
const RULE_COMMANDS = new Set([
  'AT_EnableRule',
  'AT_DisableRule',
  'AT_EnableReplicaRule',
  'AT_EnableAlwaysRule',
]);
const CONSTRAINT_TYPES: Record<string, string> = {
  'foreign key': 'CONSTR_FOREIGN',
  check: 'CONSTR_CHECK',
  unique: 'CONSTR_UNIQUE',
  'primary key': 'CONSTR_PRIMARY',
  exclusion: 'CONSTR_EXCLUSION',
};

export class Locator {
  constructor(readonly pending: PendingStatements) {}

  /** `DROP SCHEMA` naming the schema. */
  schemaDrop(schema: string): Found {
    return this.pending.last(({ statement }) => dropsSchema(statement, schema, false));
  }

  /** `DROP TABLE` (or view) naming the relation under any of its names, else `DROP SCHEMA … CASCADE` of its schema. */
  relationDrop(relation: QualifiedName): Found {
    const names = this.pending.relationNames(relation);
    return (
      this.pending.last(({ statement }) => dropsRelation(statement, names)) ??
      this.pending.last(({ statement }) => names.some((name) => dropsSchema(statement, name.schema, true)))
    );
  }

  /**
   * The `DROP TABLE` of a relation the migrations create again: what removed whatever the new
   * one lacks (a column, a policy, RLS).
   */
  recreation(relation: QualifiedName): Found {
    const names = this.pending.relationNames(relation);
    const created = this.pending.last(
      ({ statement }) => creates(statement) && names.some(equals(target(statement))),
    );
    if (!created) return undefined;
    const before = this.pending.list.indexOf(created);
    return this.pending.list
      .slice(0, before)
      .reverse()
      .find(({ statement }) => dropsRelation(statement, names));
  }

  columnDrop(relation: QualifiedName, column: string, type?: string): Found {
    return (
      this.columnCommand(relation, column, 'AT_DropColumn') ??
      this.recreation(relation) ??
      (type ? this.typeDropCascade(type) : undefined)
    );
  }

  columnTypeChange(relation: QualifiedName, column: string): Found {
    return this.columnCommand(relation, column, 'AT_AlterColumnType') ?? this.recreation(relation);
  }

  /** `SET NOT NULL` of the column, or `ADD PRIMARY KEY` over it (which sets it). */
  notNullSet(relation: QualifiedName, column: string): Found {
    const columns = this.pending.columnNames(relation, column);
    return (
      this.alterCommand(relation, (cmd) => {
        if (cmd.subtype === 'AT_SetNotNull') return columns.includes(cmd.name ?? '');
        return constraintsIn(cmd.def).some(
          ({ constraint }) =>
            constraint.contype === 'CONSTR_PRIMARY' &&
            strings(constraint.keys).some((key) => columns.includes(key)),
        );
      }) ?? this.recreation(relation)
    );
  }

  rlsDisable(relation: QualifiedName): Found {
    return (
      this.alterCommand(relation, (cmd) => cmd.subtype === 'AT_DisableRowSecurity') ??
      this.recreation(relation)
    );
  }

  rlsEnable(relation: QualifiedName): Found {
    return this.alterCommand(relation, (cmd) => cmd.subtype === 'AT_EnableRowSecurity');
  }

  policyDrop(relation: QualifiedName, policy: string): Found {
    const names = this.pending.relationNames(relation);
    const policies = this.pending.policyNames(relation, policy);
    return (
      this.pending.last(({ statement }) => {
        if (!isDrop(statement, 'OBJECT_POLICY')) return false;
        return droppedObjects(statement.tree).some((parts) => {
          const table = qualified(parts.slice(0, -1));
          return table !== undefined && names.some(equals(table)) && policies.includes(parts.at(-1) ?? '');
        });
      }) ?? this.recreation(relation)
    );
  }

  /** `DROP TRIGGER` of the trigger on the relation (under any of its names), else the relation's re-creation. */
  triggerDrop(relation: QualifiedName, trigger: string): Found {
    const names = this.pending.relationNames(relation);
    return (
      this.pending.last(({ statement }) => {
        if (!isDrop(statement, 'OBJECT_TRIGGER')) return false;
        return droppedObjects(statement.tree).some((parts) => {
          const table = qualified(parts.slice(0, -1));
          return table !== undefined && names.some(equals(table)) && parts.at(-1) === trigger;
        });
      }) ?? this.recreation(relation)
    );
  }

  /**
   * What adds, changes or drops a rule on the relation (under any of its names): `CREATE [OR
   * REPLACE] RULE`, `DROP RULE`, `ALTER TABLE … ENABLE|DISABLE … RULE`; else the relation's
   * re-creation.
   */
  ruleChange(relation: QualifiedName, rule: string): Found {
    const names = this.pending.relationNames(relation);
    return (
      this.pending.last(({ statement }) => {
        if (statement.nodeType === 'RuleStmt')
          return (
            statement.tree.rulename === rule && names.some(equals(relationName(statement.tree.relation)))
          );
        if (statement.nodeType === 'AlterTableStmt')
          return (
            names.some(equals(relationName(statement.tree.relation))) &&
            alterTableCommands(statement.tree).some(
              (cmd) => RULE_COMMANDS.has(cmd.subtype) && cmd.name === rule,
            )
          );
        if (!isDrop(statement, 'OBJECT_RULE')) return false;
        return droppedObjects(statement.tree).some((parts) => {
          const table = qualified(parts.slice(0, -1));
          return table !== undefined && names.some(equals(table)) && parts.at(-1) === rule;
        });
      }) ?? this.recreation(relation)
    );
  }

  /** `CREATE EVENT TRIGGER` or `ALTER EVENT TRIGGER` (enable, disable, rename, owner) of the event trigger. */
  eventTriggerChange(trigger: string): Found {
    return this.pending.last(({ statement }) => {
      const { tree } = statement;
      if (statement.nodeType === 'CreateEventTrigStmt' || statement.nodeType === 'AlterEventTrigStmt')
        return tree.trigname === trigger;
      if (statement.nodeType === 'RenameStmt' && tree.renameType === 'OBJECT_EVENT_TRIGGER')
        return tree.newname === trigger;
      if (statement.nodeType === 'AlterOwnerStmt' && tree.objectType === 'OBJECT_EVENT_TRIGGER')
        return strings([tree.object])[0] === trigger;
      return false;
    });
  }

  /** `CREATE POLICY` or `ALTER POLICY` of the policy (under any of its names). */
  policyDefinition(relation: QualifiedName, policy: string): Found {
    const policies = this.pending.policyNames(relation, policy);
    return this.onRelation(
      relation,
      (statement) => isPolicyStatement(statement) && policies.includes(String(statement.tree.policy_name)),
    );
  }

  /**
   * The `ADD CONSTRAINT` (or column constraint) that adds the named constraint. Unnamed
   * constraints are matched by the name PostgreSQL gives them (`<table>_<column>_check`…);
   * failing that, the only unnamed one of that type on the relation.
   */
  constraintAddition(relation: QualifiedName, name: string, type: string): Found {
    const contype = CONSTRAINT_TYPES[type];
    const added = (statement: Statement) => addedConstraints(statement);
    const byName = this.onRelation(relation, (statement) =>
      added(statement).some(({ constraint, column }) =>
        constraint.conname
          ? constraint.conname === name
          : constraint.contype === contype && isDefaultName(name, relation.name, constraint, column),
      ),
    );
    if (byName) return byName;
    const unnamed = this.pending.list.filter(
      ({ statement }) =>
        this.isOn(statement, relation) &&
        added(statement).some(({ constraint }) => !constraint.conname && constraint.contype === contype),
    );
    return unnamed.length === 1 ? unnamed[0] : undefined;
  }

  /**
   * What widens a role's access to a table: the last `CREATE/ALTER POLICY`, `GRANT` or
   * `DISABLE ROW LEVEL SECURITY` that concerns that role and command, else the last statement
   * of those kinds (or `DROP POLICY`) on the table. A GRANT of a privilege the role held
   * already, or disabling RLS that was off, widens nothing.
   */
  accessWidening(relation: QualifiedName, widening: Widening): Found {
    const names = this.pending.relationNames(relation);
    const concerns = ({ statement }: PendingStatement) => widensFor(statement, names, widening);
    const mayWiden = ({ statement }: PendingStatement) =>
      (!widening.privilegeHeld && grantsOn(statement, names)) ||
      (isDrop(statement, 'OBJECT_POLICY') && dropsPolicyOn(statement, names)) ||
      (isPolicyStatement(statement) && names.some(equals(target(statement))));
    return this.pending.last(concerns) ?? this.pending.last(mayWiden);
  }

  /** `CREATE FUNCTION` or `ALTER FUNCTION` of the function; among overloads, one with its argument count. */
  functionDefinition(routine: QualifiedName, inputCount?: number): Found {
    const defines = (statement: Statement) => {
      const named = definedFunction(statement);
      return named !== undefined && named.schema === routine.schema && named.name === routine.name;
    };
    return (
      this.pending.last(
        ({ statement }) =>
          defines(statement) && (inputCount === undefined || argumentsOf(statement) === inputCount),
      ) ?? this.pending.last(({ statement }) => defines(statement))
    );
  }

  /** `GRANT` on the function. */
  functionGrant(routine: QualifiedName): Found {
    return this.pending.last(({ statement }) => {
      if (statement.nodeType !== 'GrantStmt' || statement.tree.objtype !== 'OBJECT_FUNCTION') return false;
      const objects = Array.isArray(statement.tree.objects) ? statement.tree.objects : [];
      return objects.some((object) => {
        const name = qualified(
          strings((object as { ObjectWithArgs?: { objname?: unknown } }).ObjectWithArgs?.objname),
        );
        return name !== undefined && name.schema === routine.schema && name.name === routine.name;
      });
    });
  }

  /** `CREATE TABLE`, `CREATE VIEW` or `CREATE MATERIALIZED VIEW` of the relation. */
  creation(relation: QualifiedName): Found {
    return this.onRelation(relation, creates);
  }

  /** `ALTER TABLE` (or `ALTER VIEW`) of the relation with a command `matches` accepts. */
  alterCommand(relation: QualifiedName, matches: (cmd: AlterTableCommand) => boolean): Found {
    return this.onRelation(
      relation,
      (statement) =>
        statement.nodeType === 'AlterTableStmt' && alterTableCommands(statement.tree).some(matches),
    );
  }

  /** A rename of the relation, or a move to another schema. */
  relationRename(relation: QualifiedName): Found {
    return this.onRelation(
      relation,
      (statement) =>
        (statement.nodeType === 'RenameStmt' && RELATION_OBJECTS.has(String(statement.tree.renameType))) ||
        statement.nodeType === 'AlterObjectSchemaStmt',
    );
  }

  /** `ALTER TABLE … RENAME COLUMN … TO column` on the relation: the last rename giving it its name. */
  columnRename(relation: QualifiedName, column: string): Found {
    return this.onRelation(
      relation,
      (statement) =>
        statement.nodeType === 'RenameStmt' &&
        statement.tree.renameType === 'OBJECT_COLUMN' &&
        statement.tree.newname === column,
    );
  }

  /** A column added to the relation or renamed on it. */
  columnAddition(relation: QualifiedName): Found {
    return this.onRelation(
      relation,
      (statement) =>
        (statement.nodeType === 'RenameStmt' && statement.tree.renameType === 'OBJECT_COLUMN') ||
        alterTableCommands(statement.tree).some((cmd) => cmd.subtype === 'AT_AddColumn'),
    );
  }

  /** `CREATE INDEX` (or a unique or primary key constraint) creating one of the named indexes. */
  indexCreation(relation: QualifiedName, indexes: string[]): Found {
    return this.onRelation(relation, (statement) => {
      if (statement.nodeType === 'IndexStmt') return indexes.includes(String(statement.tree.idxname));
      return addedConstraints(statement).some(({ constraint }) =>
        indexes.includes(String(constraint.indexname ?? constraint.conname)),
      );
    });
  }

  /** `GRANT` on the relation (or on all tables of its schema). */
  relationGrant(relation: QualifiedName): Found {
    const names = this.pending.relationNames(relation);
    return this.pending.last(({ statement }) => grantsOn(statement, names));
  }

  /** `CREATE EXTENSION` of the extension, or its move to another schema. */
  extensionPlacement(extension: string): Found {
    return this.pending.last(({ statement }) => {
      if (statement.nodeType === 'CreateExtensionStmt') return statement.tree.extname === extension;
      if (statement.nodeType !== 'AlterObjectSchemaStmt' || statement.tree.objectType !== 'OBJECT_EXTENSION')
        return false;
      return strings([statement.tree.object])[0] === extension;
    });
  }

  /** Of several candidates, the one latest in apply order. */
  latest(...candidates: Found[]): Found {
    const position = (found: Found) => (found ? this.pending.list.indexOf(found) : -1);
    return candidates.reduce<Found>(
      (best, candidate) => (position(candidate) > position(best) ? candidate : best),
      undefined,
    );
  }

  /** The last statement acting on the relation (under any of its names) that `matches` accepts. */
  onRelation(relation: QualifiedName, matches: (statement: Statement) => boolean): Found {
    return this.pending.last(({ statement }) => this.isOn(statement, relation) && matches(statement));
  }

  private isOn(statement: Statement, relation: QualifiedName): boolean {
    const acted = target(statement);
    return acted !== undefined && this.pending.relationNames(relation).some(equals(acted));
  }

  private columnCommand(relation: QualifiedName, column: string, subtype: string): Found {
    const columns = this.pending.columnNames(relation, column);
    return this.alterCommand(relation, (cmd) => cmd.subtype === subtype && columns.includes(cmd.name ?? ''));
  }

  /** `DROP TYPE|DOMAIN … CASCADE` of a column's type (`public.mood`, `mood[]`), which drops the column. */
  private typeDropCascade(type: string): Found {
    const parts = type
      .replace(/\[\]$/, '')
      .replace(/\(.*\)$/, '')
      .split('.');
    const name = parts.at(-1)?.replace(/^"|"$/g, '');
    const schema = parts.length > 1 ? parts[0]?.replace(/^"|"$/g, '') : undefined;
    return this.pending.last(({ statement }) => {
      if (!isDrop(statement, 'OBJECT_TYPE') && !isDrop(statement, 'OBJECT_DOMAIN')) return false;
      if (statement.tree.behavior !== 'DROP_CASCADE') return false;
      return droppedObjects(statement.tree).some((dropped) => {
        const named = qualified(dropped);
        return named?.name === name && (schema === undefined || named?.schema === schema);
      });
    });
  }
}
