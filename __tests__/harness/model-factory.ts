/**
 * Hand-built SchemaModels for pure tests: every builder returns a complete object with
 * PostgreSQL-like defaults, and takes overrides. Identities follow the model (quoted as
 * quote_ident does), computed with the same quoting the DDL uses.
 */

import {
  type Bucket,
  type Column,
  type Constraint,
  type CronJob,
  type DefaultPrivilege,
  type EnumType,
  emptyModel,
  type Grant,
  type Index,
  type Policy,
  type Publication,
  type Routine,
  type Schema,
  type SchemaModel,
  type Sequence,
  type Table,
  type Trigger,
  type View,
} from '../../src/core/schema/model.js';
import { qualifiedName, quoteIdent } from '../../src/core/sql/identifiers.js';

export const PG15 = 150000;

export function model(build: (m: ModelBuilder) => void = () => {}, serverVersion = PG15): SchemaModel {
  const m = new ModelBuilder(serverVersion);
  build(m);
  return m.model;
}

export function grants(spec: Record<string, string[]>, grantable = false): Grant[] {
  return Object.entries(spec)
    .flatMap(([grantee, privileges]) => privileges.map((privilege) => ({ grantee, privilege, grantable })))
    .sort((a, b) =>
      a.grantee === b.grantee ? (a.privilege < b.privilege ? -1 : 1) : a.grantee < b.grantee ? -1 : 1,
    );
}

export const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

export function column(name: string, type: string, overrides: Partial<Column> = {}): Column {
  return {
    name,
    type,
    notNull: false,
    default: null,
    identity: null,
    generated: null,
    collation: null,
    comment: null,
    grants: [],
    ...overrides,
  };
}

export function constraint(
  name: string,
  { type, definition, ...overrides }: Partial<Constraint> & Pick<Constraint, 'type' | 'definition'>,
): Constraint {
  // Keys in the model's order: attribute changes are reported in that order.
  return {
    name,
    type,
    definition,
    columns: [],
    validated: true,
    deferrable: false,
    initiallyDeferred: false,
    references: null,
    comment: null,
    ...overrides,
  };
}

export function index(name: string, definition: string, overrides: Partial<Index> = {}): Index {
  return {
    name,
    definition,
    unique: false,
    primary: false,
    constraint: null,
    columns: [],
    valid: true,
    comment: null,
    ...overrides,
  };
}

export function trigger(name: string, definition: string, overrides: Partial<Trigger> = {}): Trigger {
  return { name, definition, function: 'public.tg()', enabled: 'origin', comment: null, ...overrides };
}

export function policy(name: string, table: string, overrides: Partial<Policy> = {}): Policy {
  return {
    name,
    table,
    command: 'ALL',
    permissive: true,
    roles: ['PUBLIC'],
    using: null,
    withCheck: null,
    comment: null,
    ...overrides,
  };
}

export class ModelBuilder {
  readonly model: SchemaModel;

  constructor(serverVersion: number) {
    this.model = emptyModel(serverVersion);
  }

  private id(schema: string, name: string): string {
    return qualifiedName(schema, name, this.model.serverVersion);
  }

  schema(name: string, overrides: Partial<Schema> = {}): Schema {
    const schema: Schema = { name, owner: 'postgres', comment: null, grants: [], ...overrides };
    this.model.schemas[quoteIdent(name, this.model.serverVersion)] = schema;
    return schema;
  }

  extension(name: string, overrides: Partial<SchemaModel['extensions'][string]> = {}) {
    const extension = { name, schema: 'extensions', version: '1.0', ...overrides };
    this.model.extensions[name] = extension;
    return extension;
  }

  enum(schema: string, name: string, labels: string[], overrides: Partial<EnumType> = {}): EnumType {
    const type: EnumType = {
      kind: 'enum',
      schema,
      name,
      owner: 'postgres',
      comment: null,
      labels,
      ...overrides,
    };
    this.model.types[this.id(schema, name)] = type;
    return type;
  }

  sequence(schema: string, name: string, overrides: Partial<Sequence> = {}): Sequence {
    const sequence: Sequence = {
      schema,
      name,
      owner: 'postgres',
      dataType: 'bigint',
      start: '1',
      increment: '1',
      min: '1',
      max: '9223372036854775807',
      cache: '1',
      cycle: false,
      ownedBy: null,
      comment: null,
      grants: [],
      ...overrides,
    };
    this.model.sequences[this.id(schema, name)] = sequence;
    return sequence;
  }

  table(schema: string, name: string, overrides: Partial<Table> = {}): Table {
    const table: Table = {
      schema,
      name,
      kind: 'table',
      owner: 'postgres',
      managed: false,
      rlsEnabled: false,
      rlsForced: false,
      partitionKey: null,
      partitionOf: null,
      partitionBound: null,
      replicaIdentity: 'default',
      comment: null,
      columns: [],
      constraints: {},
      indexes: {},
      triggers: {},
      policies: {},
      grants: [],
      stats: { estimatedRows: 0, pages: 0 },
      ...overrides,
    };
    this.model.tables[this.id(schema, name)] = table;
    return table;
  }

  view(schema: string, name: string, definition: string, overrides: Partial<View> = {}): View {
    const view: View = {
      schema,
      name,
      kind: 'view',
      owner: 'postgres',
      definition,
      securityInvoker: false,
      securityBarrier: false,
      checkOption: null,
      comment: null,
      columns: [],
      indexes: {},
      grants: [],
      populated: true,
      ...overrides,
    };
    this.model.views[this.id(schema, name)] = view;
    return view;
  }

  routine(schema: string, name: string, argTypes: string, overrides: Partial<Routine> = {}): Routine {
    const routine: Routine = {
      schema,
      name,
      kind: 'function',
      identityArguments: argTypes,
      arguments: argTypes,
      returns: 'boolean',
      language: 'sql',
      body: 'select true',
      definition: null,
      volatility: 'volatile',
      securityDefiner: false,
      strict: false,
      leakproof: false,
      parallel: 'unsafe',
      config: [],
      owner: 'postgres',
      comment: null,
      grants: grants({ PUBLIC: ['EXECUTE'], postgres: ['EXECUTE'] }),
      ...overrides,
    };
    this.model.functions[`${this.id(schema, name)}(${argTypes})`] = routine;
    return routine;
  }

  defaultPrivilege(entry: DefaultPrivilege): DefaultPrivilege {
    this.model.defaultPrivileges.push(entry);
    return entry;
  }

  publication(name: string, overrides: Partial<Publication> = {}): Publication {
    const publication: Publication = {
      name,
      allTables: false,
      tables: [],
      operations: { insert: true, update: true, delete: true, truncate: true },
      ...overrides,
    };
    this.model.publications[name] = publication;
    return publication;
  }

  cronJob(name: string, overrides: Partial<CronJob> = {}): CronJob {
    const job: CronJob = {
      name,
      schedule: '0 3 * * *',
      command: 'select 1',
      database: 'postgres',
      username: 'postgres',
      active: true,
      ...overrides,
    };
    this.model.cronJobs[name] = job;
    return job;
  }

  bucket(id: string, overrides: Partial<Bucket> = {}): Bucket {
    const bucket: Bucket = {
      id,
      name: id,
      public: false,
      fileSizeLimit: null,
      allowedMimeTypes: null,
      ...overrides,
    };
    this.model.buckets[id] = bucket;
    return bucket;
  }
}

/** A typical Supabase table: id primary key, a few columns, RLS on, the API roles granted. */
export function profilesTable(m: ModelBuilder, name = 'profiles', schema = 'public'): Table {
  const id = qualifiedName(schema, name);
  return m.table(schema, name, {
    rlsEnabled: true,
    columns: [
      column('id', 'uuid', { notNull: true }),
      column('username', 'text'),
      column('age', 'integer'),
      column('created_at', 'timestamp with time zone', { notNull: true, default: 'now()' }),
    ],
    constraints: {
      [`${name}_pkey`]: constraint(`${name}_pkey`, {
        type: 'primary key',
        definition: 'PRIMARY KEY (id)',
        columns: ['id'],
      }),
    },
    indexes: {
      [`${name}_pkey`]: index(`${name}_pkey`, `CREATE UNIQUE INDEX ${name}_pkey ON ${id} USING btree (id)`, {
        unique: true,
        primary: true,
        constraint: `${name}_pkey`,
        columns: ['id'],
      }),
      [`${name}_username_idx`]: index(
        `${name}_username_idx`,
        `CREATE INDEX ${name}_username_idx ON ${id} USING btree (username)`,
        { columns: ['username'] },
      ),
    },
    policies: {
      'Users read own': policy('Users read own', id, {
        command: 'SELECT',
        roles: ['authenticated'],
        using: '(auth.uid() = id)',
      }),
    },
    grants: grants({
      anon: TABLE_PRIVILEGES,
      authenticated: TABLE_PRIVILEGES,
      postgres: TABLE_PRIVILEGES,
      service_role: TABLE_PRIVILEGES,
    }),
  });
}
