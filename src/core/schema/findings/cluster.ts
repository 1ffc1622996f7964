import { type BeyondDatabaseCode, beyondDatabase } from '../../migrations/beyond-database.js';
import type { PendingStatement } from './pending.js';

/**
 * Statements whose effect escapes the migration's database (see beyond-database.ts): each is a
 * blocking finding of category `cluster`, at its statement.
 */
export interface ClusterFinding {
  code: BeyondDatabaseCode;
  message: string;
  at: PendingStatement;
}

const CONSEQUENCE: Record<BeyondDatabaseCode, string> = {
  'database-change':
    'acts on a database, which is cluster-wide: it reaches past the migration’s own database',
  'role-change': 'changes a role, which is cluster-wide: every database on the server sees it',
  'system-change': 'changes the server itself: every database on it is affected',
  'other-sessions': 'acts on other sessions: it can cancel or end connections of any database on the server',
  'remote-connection': 'connects to another server: what runs there is beyond what this plan can see',
  'server-program': 'runs a program on the database server’s host',
  'server-file': 'reads or writes files on the database server’s host',
};

export function clusterFindings(statements: PendingStatement[]): ClusterFinding[] {
  return statements.flatMap((at) =>
    beyondDatabase(at.statement.nodeType, at.statement.tree).map(({ code, what }) => ({
      code,
      message: `${what} ${CONSEQUENCE[code]}`,
      at,
    })),
  );
}
