// Builds devctl's outputs:
// - dist/main.cjs, the CLI: ONE CommonJS file. Node loads a single CJS file ~20 ms faster than an
//   ESM graph of chunks, which matters for `devctl status`. Commands stay lazy: esbuild wraps each
//   dynamically imported module in an init function that runs only when the command runs.
// - dist/status.cjs, `devctl status` alone (its fast path: a fifth of the code to load);
// The small packages every command needs (argument parsing, suggestions) and the stack's contract
// (@repo/stack-contract, from its TypeScript: a workspace package has no dist/ until turbo builds it)
// are bundled in; every other package stays external and is required only by the command that uses it.
// - dist/dashboard/, the page of `devctl dashboard` (dashboard/, Vite + React), built here so the
//   command serves files and needs no dev server. Rebuilt only when a file of dashboard/ is newer.
// Each file is written to a temporary name and renamed, so a devctl running in parallel never reads
// a half-written bundle.
import { readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const BUNDLED = new Set(['citty', 'fastest-levenshtein', '@repo/stack-contract']);

/** Marks every bare import external except the BUNDLED packages. */
const externalExceptBundled = {
  name: 'external-except-bundled',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const parts = args.path.split('/');
      const name = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      if (BUNDLED.has(name)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const root = fileURLToPath(new URL('.', import.meta.url));
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
};

async function buildAtomically(outfile, options) {
  const temporary = `${outfile}.${process.pid}.tmp`;
  await build({ ...common, ...options, outfile: temporary });
  renameSync(`${temporary}.map`, `${outfile}.map`);
  renameSync(temporary, outfile);
}

/** Builds dist/; `clean` first removes outputs of older builds (never while others may run it). */
export async function buildDevctl({ clean = false } = {}) {
  if (clean) rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true });
  const cli = {
    format: 'cjs',
    plugins: [externalExceptBundled],
    // Workspace packages from their TypeScript (package.json `exports` condition `source`).
    conditions: ['source'],
    // Code written as ESM reads import.meta.url; in the CJS bundle it is the bundle's own URL.
    define: { 'import.meta.url': '__devctl_import_meta_url' },
    banner: { js: 'const __devctl_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  };
  await buildAtomically(`${root}dist/main.cjs`, { ...cli, entryPoints: ['src/main.ts'] });
  // `devctl status` alone, for its fast path in bin/devctl.js.
  await buildAtomically(`${root}dist/status.cjs`, { ...cli, entryPoints: ['src/main-status.ts'] });
  // bin/devctl.js compiles the bundle as a vm.Script (for V8's code cache), where a runtime
  // `import()` cannot run: every import must be static or a string literal (bundled as require).
  for (const bundle of ['main.cjs', 'status.cjs']) {
    const runtimeImport = /[^\w$.'"`]import\(/.exec(readFileSync(`${root}dist/${bundle}`, 'utf8'));
    if (runtimeImport) {
      throw new Error(
        `dist/${bundle} keeps a runtime import() (near "${runtimeImport.input.slice(runtimeImport.index - 60, runtimeImport.index + 40)}"); import modules statically or with a literal path`,
      );
    }
  }
}

/** The newest modification time of the files under `dir` (0 when it has none). */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * dist/dashboard from dashboard/ with Vite (a dev dependency: only the build needs it). Skipped when
 * the output is newer than every source, so a test run's global setup does not pay ~2 s each time.
 */
export async function buildDashboard() {
  const source = `${root}dashboard`;
  const page = `${root}dist/dashboard/index.html`;
  let built = 0;
  try {
    built = statSync(page).mtimeMs;
  } catch {
    built = 0;
  }
  const inputs = Math.max(
    newestMtime(`${source}/src`),
    statSync(`${source}/index.html`).mtimeMs,
    statSync(`${source}/vite.config.ts`).mtimeMs,
  );
  if (built > inputs) return;
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: `${source}/vite.config.ts` });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDevctl({ clean: true });
  await buildDashboard();
}
