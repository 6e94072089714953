#!/usr/bin/env node
// `pnpm test:template`: the template stays whole after its first use (issue #17). In a project made
// from this checkout by `devctl init` (the samples kept), it runs what a new user runs --
// `pnpm install`, `devctl new service billing --route /api/billing --depends-on data-service`,
// then the next steps it prints that prepare the checkout (`pnpm install`, `pnpm devctl export
// compose|kubernetes` to regenerate deploy/) -- and then the project's whole `pnpm test`, with no other edit. Every list of services that a
// test, a doc table, the frontend or the gateway reads must follow the new service by itself;
// scaffold-e2e (in `pnpm test`) checks the lists one by one, this checks that nothing else breaks.
//
// Costs a second whole `pnpm test` (the project's, with its eighth service) plus its install and a
// cold build: CI runs it after the README's commands (.ci/run), not `pnpm test`.
//
// Nothing outside a temporary folder is touched: the project, its PM2_HOME (where no daemon runs
// unless a test starts one; each is killed by pid at the end) and its stack registry live there.
// Exit 0 when the project's `pnpm test` passes; 1 with the failing step and where to look.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const parent = mkdtempSync(join(tmpdir(), 'devctl-template-check-'));
const project = join(parent, 'template-app');
const pm2Home = join(parent, 'pm2');
const env = {
  ...process.env,
  PM2_HOME: pm2Home,
  // The project's stack claims its port block here, not in the user's registry.
  DEVSTACK_STATE_DIR: join(parent, 'state'),
  // init commits the copy: a fresh CI machine has no git identity of its own.
  GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? 'Template Check',
  GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? 'template-check@example.test',
  GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? 'Template Check',
  GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? 'template-check@example.test',
  NO_COLOR: '1',
};
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

function cleanup() {
  // A test that left its PM2 daemon behind in the shared home: stop it by pid.
  const pidFile = join(pm2Home, 'pm2.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (!keep) rmSync(parent, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
}

/** Runs one step (exit 0 or the check fails here); with `capture`, returns its stdout. */
function step(title, command, args, cwd, { capture = false } = {}) {
  console.log(`\n== template check: ${title} (${elapsed()})\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    cwd,
    env,
    stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    encoding: 'utf8',
  });
  if (capture) process.stdout.write(result.stdout ?? '');
  if (result.status === 0) return result.stdout;
  console.error(
    `\ntemplate check failed at "${title}" (exit ${result.status ?? result.signal}) in ${cwd}` +
      `\nnext: pnpm test:template --keep keeps the project to look into (cd into it and run the step again)`,
  );
  if (keep) console.error(`the project is kept at ${project}`);
  cleanup();
  process.exit(1);
}

const devctl = join(root, 'packages/devctl/bin/devctl.js');
step(
  'devctl init (a project from this checkout, samples kept)',
  process.execPath,
  [devctl, 'init', project],
  root,
);
// As init's printed next steps go: install first (the project's devctl builds itself with esbuild).
step('pnpm install', 'pnpm', ['install', '--prefer-offline'], project);
// --json: the same command, whose answer lists the next steps it prints for a person.
const created = step(
  'devctl new service, as a new user types it',
  process.execPath,
  [
    join(project, 'packages/devctl/bin/devctl.js'),
    'new',
    'service',
    'billing',
    '--route',
    '/api/billing',
    '--depends-on',
    'data-service',
    '--json',
  ],
  project,
  { capture: true },
);
// Its printed next steps that prepare the checkout (install, regenerate deploy/), not those that
// run the stack (start, curl): the check is the project's tests, which start what they need.
const { nextSteps } = JSON.parse(created);
const preparing = nextSteps.filter((line) => /^pnpm (install|devctl export \w+)$/.test(line));
console.log(`next steps printed: ${nextSteps.length}; run here: ${preparing.join('; ')}`);
for (const line of preparing) {
  const args = line.split(' ').slice(1);
  // Not frozen: the new service is a new importer in pnpm-lock.yaml (pnpm freezes by default when CI is set).
  if (args[0] === 'install') args.push('--prefer-offline', '--no-frozen-lockfile');
  step(`printed next step: ${line}`, 'pnpm', args, project);
}
step("the project's whole pnpm test, with no other edit", 'pnpm', ['test'], project);
console.log(`\ntemplate check: the whole pnpm test passes after devctl new service billing (${elapsed()})`);
if (keep) console.log(`the project is kept at ${project}`);
cleanup();
