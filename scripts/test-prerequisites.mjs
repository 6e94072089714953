#!/usr/bin/env node
// Runs before `pnpm test`: installs the system programs the tests drive and npm cannot provide --
// Debian's Chromium for the browser tests, PostgreSQL's server binaries for the PostgreSQL tests --
// when they are missing, so the README's `pnpm test` passes on a fresh machine with no other step.
// One line per install says what and why; where it cannot install (no apt-get, not root and no
// sudo), it stops with the command to run instead of letting those tests fail (or skip) later.
// Nothing is downloaded outside the system's package manager: no browser bundles from npm.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where the browser tests look for Chromium (apps/web/e2e/chromium.ts reads the same variable). */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when `initdb` is where packages/test-utils/src/postgres.ts looks for it. */
function hasPostgres() {
  const dirs = process.env.PG_BIN_DIR
    ? [process.env.PG_BIN_DIR]
    : ['/usr/local/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  if (existsSync('/usr/lib/postgresql')) {
    for (const version of readdirSync('/usr/lib/postgresql'))
      dirs.push(join('/usr/lib/postgresql', version, 'bin'));
  }
  return dirs.some((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

const requirements = [
  {
    what: `Chromium (${chromiumPath})`,
    why: 'the browser tests (apps/web/e2e, devctl init-e2e and dashboard-browser) drive a real Chromium',
    present: () => existsSync(chromiumPath),
    // CHROMIUM_PATH names a browser the user provides: installing Debian's would not put it there.
    aptPackage: process.env.CHROMIUM_PATH ? undefined : 'chromium',
  },
  {
    what: "PostgreSQL's initdb and pg_ctl",
    why: 'the PostgreSQL tests (data-service, service-kit, devctl) start a throwaway server',
    present: hasPostgres,
    aptPackage: process.env.PG_BIN_DIR ? undefined : 'postgresql',
  },
];

const fail = (message) => {
  console.error(`test prerequisites: ${message}`);
  process.exit(1);
};

const missing = requirements.filter((requirement) => !requirement.present());
if (missing.length === 0) process.exit(0);

for (const requirement of missing) {
  if (!requirement.aptPackage)
    fail(`${requirement.what} is missing, and ${requirement.why}; install it there or unset the variable`);
}
const packages = missing.map((requirement) => requirement.aptPackage);
const manual = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;

const hasCommand = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
if (!hasCommand('apt-get'))
  fail(
    `${missing.map((r) => r.what).join(' and ')} missing, and apt-get is not available to install it: ` +
      `install ${packages.join(' and ')} with this system's package manager (${missing.map((r) => r.why).join('; ')})`,
  );

let sudo = [];
if (process.getuid?.() !== 0) {
  // `sudo -n` never prompts: a test run must not stop to ask for a password.
  if (hasCommand('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0)
    sudo = ['sudo', '-n'];
  else
    fail(
      `${missing.map((r) => r.what).join(' and ')} missing; installing needs root. Run as root: ${manual} ` +
        `(${missing.map((r) => r.why).join('; ')})`,
    );
}

for (const requirement of missing)
  console.log(
    `test prerequisites: installing ${requirement.aptPackage} (apt-get) because ${requirement.what} is missing: ${requirement.why}`,
  );

/** Runs apt-get quietly; on failure shows its output and the command to run by hand. */
function apt(args) {
  const [command, ...rest] = [...sudo, 'apt-get', ...args];
  try {
    execFileSync(command, rest, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    fail(
      `apt-get ${args.join(' ')} failed (exit ${error.status ?? error.signal}):\n${output}\nTo retry by hand: ${manual}`,
    );
  }
}

// Another apt run (unattended upgrades, a second checkout's tests) may hold the lock: wait for it.
const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
apt(['update', '-qq', ...lockWait]);
apt(['install', '-y', '-qq', '--no-install-recommends', ...lockWait, ...packages]);

const stillMissing = missing.filter((requirement) => !requirement.present());
if (stillMissing.length > 0)
  fail(
    `apt-get installed ${packages.join(' ')} but ${stillMissing.map((r) => r.what).join(' and ')} is still missing`,
  );
