#!/usr/bin/env node
// Benchmark: kill -9 -> healthy again, per service, under a real PM2 (private PM2_HOME, free
// ports). It is the kill -9 part of packages/reliability-tests/test/crash-recovery.test.ts (not the
// daemon kill that ends that file) with more kills per service
// (RELIABILITY_KILLS, 3 here; `pnpm test` kills each service once, which proves the behaviour), so
// each service gets a median, and the second and later kills hit a process PM2 itself restarted.
// The test prints the table (median per service, with the load average).
//
//   node bench/crash-recovery.mjs [--kills 3]
//
// Build the services first (pnpm build): the stack runs their dist/ as PM2 does.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repo } from './_lib.mjs';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '3' } } });
const result = spawnSync('pnpm', ['exec', 'vitest', 'run', 'test/crash-recovery.test.ts', '-t', 'kill -9'], {
  cwd: join(repo, 'packages', 'reliability-tests'),
  env: { ...process.env, RELIABILITY_KILLS: values.kills },
  stdio: 'inherit',
});
process.exitCode = result.status ?? 1;
