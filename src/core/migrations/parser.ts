import v8 from 'node:v8';

type LibPgQuery = typeof import('libpg-query');

let loading: Promise<void> | undefined;
let library: LibPgQuery | undefined;

/**
 * PostgreSQL's parser (libpg_query, WebAssembly), loaded once per process on first use:
 * commands that parse no SQL never compile it.
 */
export function ensureParser(): Promise<void> {
  loading ??= withBaselineWasmCompiler(async () => {
    const imported: LibPgQuery & { default?: LibPgQuery } = await import('libpg-query');
    // Bundled, the CommonJS build of the package arrives as the namespace's default export.
    const loaded = typeof imported.loadModule === 'function' ? imported : (imported.default as LibPgQuery);
    await loaded.loadModule();
    library = loaded;
  });
  return loading;
}

/** libpg_query's parse of `sql` (its JSON tree); ensureParser() must have resolved. Throws its error. */
export function parseSync(sql: string): unknown {
  if (!library) throw new Error('the SQL parser is not loaded: await ensureParser() first');
  return library.parseSync(sql);
}

/**
 * Compiles the WebAssembly loaded by `load` with V8's baseline compiler only (Liftoff). By
 * default V8 recompiles a module's hot functions with its optimizing compiler: for the parser
 * that kept about 40 MB more resident for the rest of the process (a plan of 2,000 tables
 * peaked near 290 MB instead of 250) and parsed a 3 MB schema no faster. V8 reads the flag when
 * a module is compiled, so it is set while this one is and put back; left alone when the user
 * chose a Liftoff flag of their own.
 */
async function withBaselineWasmCompiler(load: () => Promise<void>): Promise<void> {
  const userChose = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) =>
    arg.includes('liftoff'),
  );
  if (userChose) return load();
  v8.setFlagsFromString('--liftoff-only');
  try {
    await load();
  } finally {
    v8.setFlagsFromString('--no-liftoff-only');
  }
}
