// The pure parts of "what changed since it last worked", as tables: comparing fingerprints, the
// diff command, which findings the change leads, which sources a service's build is made of, and
// when recordHealthy takes a new fingerprint. Small temporary folders, no git, no PM2.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '@repo/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  changedFiles,
  changedSinceHealthyFindings,
  changesSinceHealthy,
  diffCommand,
  runningChanges,
  withChanges,
} from '../src/diagnose/changes';
import {
  fingerprint,
  headCommit,
  lastHealthyFile,
  recordHealthy,
  sourcePaths,
  UNBUILT,
  verifiedByDiagnose,
} from '../src/diagnose/last-healthy';
import type { Changes, Finding, FindingKind } from '../src/diagnose/types';

describe('changedFiles', () => {
  const rows: {
    name: string;
    before: Record<string, string>;
    now: Record<string, string>;
    expected: unknown;
  }[] = [
    {
      name: 'nothing changed',
      before: { 'a.ts': '1', 'b.ts': '2' },
      now: { 'b.ts': '2', 'a.ts': '1' },
      expected: [],
    },
    {
      name: 'modified, added and deleted, sorted by path',
      before: { 'src/b.ts': '1', 'src/c.ts': '3' },
      now: { 'src/b.ts': '2', 'src/a.ts': '9' },
      expected: [
        { path: 'src/a.ts', change: 'added' },
        { path: 'src/b.ts', change: 'modified' },
        { path: 'src/c.ts', change: 'deleted' },
      ],
    },
    {
      name: 'a file edited after the healthy build counts as changed whatever its content',
      before: { 'src/a.ts': UNBUILT },
      now: { 'src/a.ts': UNBUILT },
      expected: [{ path: 'src/a.ts', change: 'modified' }],
    },
  ];
  for (const row of rows) it(row.name, () => expect(changedFiles(row.before, row.now)).toEqual(row.expected));
});

describe('diffCommand', () => {
  it('names the changed files, with a 12-character commit', () => {
    expect(
      diffCommand(
        '0123456789abcdef0123',
        [{ path: 'services/form/src/a.ts', change: 'modified' }],
        ['services/form/src'],
      ),
    ).toBe('git diff 0123456789ab -- services/form/src/a.ts');
  });
  it('names the source folders when more than eight files changed', () => {
    const files = Array.from({ length: 9 }, (_, i) => ({
      path: `services/form/src/f${i}.ts`,
      change: 'modified' as const,
    }));
    expect(diffCommand('abc', files, ['services/form/src', 'packages/service-kit/src'])).toBe(
      'git diff abc -- services/form/src packages/service-kit/src',
    );
  });
});

describe('withChanges', () => {
  const changes: Changes = {
    healthyAt: '2026-12-06T10:00:00.000Z',
    commit: 'abc',
    files: [{ path: 'services/form/src/a.ts', change: 'modified' }],
    commits: [],
    command: 'git diff abc -- services/form/src/a.ts',
  };
  const finding = (kind: FindingKind, located: boolean): Finding => ({
    kind,
    service: 'form-service',
    severity: 'error',
    summary: 's',
    evidence: [],
    location: located ? { file: 'services/form/src/a.ts', line: 1, column: 1 } : null,
    next: 'the detector says',
  });
  const rows: { kind: FindingKind; located: boolean; leads: boolean }[] = [
    { kind: 'crash-loop', located: false, leads: true },
    { kind: 'unhealthy', located: false, leads: true },
    { kind: 'request-error', located: false, leads: true },
    { kind: 'request-error', located: true, leads: false },
    { kind: 'uncaught-exception', located: true, leads: false },
    { kind: 'config-error', located: false, leads: false },
    { kind: 'port-conflict', located: false, leads: false },
    { kind: 'dependency-unreachable', located: false, leads: false },
    { kind: 'stopped', located: false, leads: false },
  ];
  for (const row of rows) {
    it(`${row.kind}${row.located ? ' with a location' : ' without one'}: the change ${row.leads ? 'leads' : 'is attached only'}`, () => {
      const [result] = withChanges([finding(row.kind, row.located)], () => changes);
      expect(result?.changes).toEqual(changes);
      const clock = new Date(changes.healthyAt).toTimeString().slice(0, 8);
      expect(result?.next).toBe(
        row.leads
          ? `start from what changed since it last worked (healthy at ${clock}): git diff abc -- services/form/src/a.ts; then the detector says`
          : 'the detector says',
      );
    });
  }
  it('a service without changes keeps its finding as it was', () => {
    const original = finding('crash-loop', false);
    expect(withChanges([original], () => undefined)).toEqual([original]);
  });
});

describe('verifiedByDiagnose: a diagnose records a service as last healthy only when verified', () => {
  const online = (name: string, healthOk = true) => ({
    name,
    kind: 'service' as const,
    state: 'online',
    healthOk,
  });
  const seen = [online('auth-service'), online('form-service'), online('data-service', false)];
  const rows: {
    name: string;
    findings: { service: string; severity: 'error' | 'warning' }[];
    seen?: Parameters<typeof verifiedByDiagnose>[1];
    expected: string[];
  }[] = [
    {
      name: 'no finding: every service online and answering /health',
      findings: [],
      seen,
      expected: ['auth-service', 'form-service'],
    },
    {
      name: 'an error anywhere: nothing (a stack with an error is not working)',
      findings: [{ service: 'data-service', severity: 'error' }],
      expected: [],
    },
    {
      name: 'an error on one service does not let the others through either',
      findings: [{ service: 'form-service', severity: 'error' }],
      expected: [],
    },
    {
      name: 'a warning: the others, never the service it names (changed-since-healthy stays until verified)',
      findings: [{ service: 'auth-service', severity: 'warning' }],
      expected: ['form-service'],
    },
    {
      name: 'stopped, errored or a tool: never',
      findings: [],
      seen: [
        { name: 'a', kind: 'service', state: 'stopped', healthOk: false },
        { name: 'b', kind: 'service', state: 'errored', healthOk: false },
        { name: 'devctl-logrotate', kind: 'tool', state: 'online', healthOk: false },
        online('c'),
      ],
      expected: ['c'],
    },
  ];
  for (const row of rows)
    it(row.name, () => expect(verifiedByDiagnose(row.findings, row.seen ?? seen)).toEqual(row.expected));
});

describe('runningChanges: only the changes the running process holds', () => {
  const base: Changes = {
    healthyAt: '2026-12-06T08:42:00.000Z',
    commit: '0123456789abcdef',
    files: [
      { path: 'services/auth/src/a.ts', change: 'modified' },
      { path: 'services/auth/src/b.ts', change: 'added' },
      { path: 'services/auth/src/c.ts', change: 'deleted' },
    ],
    commits: [],
    command: 'git diff 0123456789ab -- services/auth/src/a.ts services/auth/src/b.ts services/auth/src/c.ts',
  };
  const running = Date.parse('2026-12-06T09:00:00Z');
  const rows: {
    name: string;
    mtimes: Record<string, number>;
    since: number | undefined;
    files: string[];
    command?: string;
  }[] = [
    {
      name: 'edited before the build that runs: all of it runs',
      mtimes: { 'services/auth/src/a.ts': running - 60_000, 'services/auth/src/b.ts': running - 1 },
      since: running,
      files: ['services/auth/src/a.ts', 'services/auth/src/b.ts', 'services/auth/src/c.ts'],
      command: base.command as string,
    },
    {
      name: 'one edited after (not built or not restarted yet): left out, and out of the diff command',
      mtimes: { 'services/auth/src/a.ts': running - 60_000, 'services/auth/src/b.ts': running + 30_000 },
      since: running,
      files: ['services/auth/src/a.ts', 'services/auth/src/c.ts'],
      command: 'git diff 0123456789ab -- services/auth/src/a.ts services/auth/src/c.ts',
    },
    {
      name: 'the running build unknown: every change counts',
      mtimes: { 'services/auth/src/a.ts': running + 5000, 'services/auth/src/b.ts': running + 5000 },
      since: undefined,
      files: ['services/auth/src/a.ts', 'services/auth/src/b.ts', 'services/auth/src/c.ts'],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const result = runningChanges(base, (path) => row.mtimes[path], row.since);
      expect(result?.files.map((file) => file.path)).toEqual(row.files);
      if (row.command) expect(result?.command).toBe(row.command);
    });
  }
  it('only edits that do not run yet: nothing', () => {
    const edits = { ...base, files: base.files.slice(0, 2) };
    expect(runningChanges(edits, () => running + 5000, running)).toBeUndefined();
  });
});

describe('changedSinceHealthyFindings: a warning for a service that runs changed code and has no finding', () => {
  const healthyAt = '2026-12-06T08:42:10.000Z';
  const clock = new Date(healthyAt).toTimeString().slice(0, 8);
  const changesOf = (files: string[], commits: string[] = []): Changes => ({
    healthyAt,
    commit: '0123456789abcdef',
    files: files.map((path) => ({ path, change: 'modified' as const })),
    commits,
    command: `git diff 0123456789ab -- ${files.join(' ')}`,
  });
  const error = (service: string): Finding => ({
    kind: 'request-error',
    service,
    severity: 'error',
    summary: 's',
    evidence: [],
    location: null,
    next: 'n',
  });

  it('an uncommitted edit on a service with no finding: one warning naming the file, the time and the diff', () => {
    const changes = changesOf(['services/auth/src/routes/me.ts']);
    const [warning, ...rest] = changedSinceHealthyFindings([], new Map([['auth-service', changes]]));
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({
      kind: 'changed-since-healthy',
      service: 'auth-service',
      severity: 'warning',
      location: null,
      changes,
      summary: `auth-service runs code changed since it last worked at ${clock} (services/auth/src/routes/me.ts, uncommitted)`,
    });
    expect(warning?.next).toBe(
      'if a request to auth-service gives a wrong answer and nothing else explains it, this change is the lead: git diff 0123456789ab -- services/auth/src/routes/me.ts; once it works as meant, pnpm devctl restart auth-service --wait verifies it (and clears this)',
    );
  });

  const rows: { name: string; findings: Finding[]; changes: [string, Changes][]; expected: string[] }[] = [
    {
      name: 'a service that has a finding: no warning (the change rides on its finding)',
      findings: [error('auth-service')],
      changes: [['auth-service', changesOf(['services/auth/src/a.ts'])]],
      expected: ['request-error auth-service'],
    },
    {
      name: 'the findings first, then the warnings, one per changed service',
      findings: [error('data-service')],
      changes: [
        ['auth-service', changesOf(['services/auth/src/a.ts', 'packages/service-kit/src/b.ts'])],
        ['form-service', changesOf(['packages/service-kit/src/b.ts'])],
      ],
      expected: [
        'request-error data-service',
        'changed-since-healthy auth-service',
        'changed-since-healthy form-service',
      ],
    },
    {
      name: 'no change: nothing',
      findings: [],
      changes: [['auth-service', changesOf([])]],
      expected: [],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const result = changedSinceHealthyFindings(row.findings, new Map(row.changes));
      expect(result.map((finding) => `${finding.kind} ${finding.service}`)).toEqual(row.expected);
    });
  }

  it('committed changes and many files: the commit count, three files and how many more', () => {
    const changes = changesOf(
      [
        'services/auth/src/a.ts',
        'services/auth/src/b.ts',
        'services/auth/src/c.ts',
        'services/auth/src/d.ts',
      ],
      ['abc1234 auth: one', 'def5678 auth: two'],
    );
    const [warning] = changedSinceHealthyFindings([], new Map([['auth-service', changes]]));
    expect(warning?.summary).toBe(
      `auth-service runs code changed since it last worked at ${clock} (services/auth/src/a.ts, services/auth/src/b.ts, services/auth/src/c.ts, 1 more, 2 commits since)`,
    );
  });
});

let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => dir?.cleanup());

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function workspace(): string {
  dir = tempDir('devctl-changes-');
  write(dir.path, {
    'pnpm-workspace.yaml': "packages:\n  - 'services/*'\n  - packages/*\n\ncatalog:\n  zod: 4.0.0\n",
    'services/form/package.json': JSON.stringify({
      name: '@repo/form',
      dependencies: { '@repo/service-kit': 'workspace:*', fastify: '5' },
      devDependencies: { '@repo/test-utils': 'workspace:*' },
    }),
    'services/form/src/index.ts': 'export {};\n',
    'services/form/src/index.test.ts': 'test\n',
    'services/form/test/app.test.ts': 'test\n',
    'services/form/dist/index.js': 'built\n',
    'packages/service-kit/package.json': JSON.stringify({
      name: '@repo/service-kit',
      dependencies: { '@repo/mask': 'workspace:*' },
    }),
    'packages/service-kit/src/app.ts': 'export {};\n',
    'packages/mask/package.json': JSON.stringify({ name: '@repo/mask' }),
    'packages/mask/index.ts': 'export {};\n',
    'packages/test-utils/package.json': JSON.stringify({ name: '@repo/test-utils' }),
    'packages/test-utils/src/x.ts': 'export {};\n',
  });
  return dir.path;
}

describe('sourcePaths and fingerprint', () => {
  it("a service's sources: its src, and the runtime workspace packages it bundles, transitively", () => {
    const root = workspace();
    expect(sourcePaths(root, 'services/form')).toEqual([
      'services/form/src',
      'services/form/package.json',
      'packages/service-kit/src',
      'packages/service-kit/package.json',
      'packages/mask',
    ]);
  });

  it('fingerprints source files, not tests, build output or dependencies', () => {
    const root = workspace();
    write(root, { 'packages/mask/node_modules/x/index.js': 'dep\n' });
    expect(Object.keys(fingerprint(root, sourcePaths(root, 'services/form'))).sort()).toEqual([
      'packages/mask/index.ts',
      'packages/mask/package.json',
      'packages/service-kit/package.json',
      'packages/service-kit/src/app.ts',
      'services/form/package.json',
      'services/form/src/index.ts',
    ]);
  });
});

describe('recordHealthy', () => {
  const service = (root: string) => ({
    name: 'form-service',
    cwd: join(root, 'services/form'),
    script: 'dist/index.js',
    folder: 'services/form',
  });
  const state = (root: string) => JSON.parse(readFileSync(lastHealthyFile(root), 'utf8'));
  const setMtime = (root: string, path: string, ms: number) =>
    utimesSync(join(root, path), ms / 1000, ms / 1000);

  it('a new build: its hash and the fingerprint of its sources; the same build later: only the time moves', () => {
    const root = workspace();
    const built = Date.parse('2026-12-06T10:00:00Z');
    setMtime(root, 'services/form/dist/index.js', built);
    for (const file of ['services/form/src/index.ts', 'packages/service-kit/src/app.ts'])
      setMtime(root, file, built - 60_000);
    recordHealthy(root, [{ service: service(root), startedAt: built + 500 }], built + 1000);
    const first = state(root)['form-service'];
    expect(first).toMatchObject({
      since: '2026-12-06T10:00:01.000Z',
      time: '2026-12-06T10:00:01.000Z',
      commit: null,
    });
    expect(first.files['services/form/src/index.ts']).toMatch(/^[0-9a-f]{16}$/);

    // Edited since, not rebuilt: the build that is healthy is still the one fingerprinted.
    write(root, { 'services/form/src/index.ts': 'export const broken = 1;\n' });
    recordHealthy(root, [{ service: service(root), startedAt: built + 500 }], built + 60_000);
    const second = state(root)['form-service'];
    expect(second.time).toBe('2026-12-06T10:01:00.000Z');
    expect(second.since).toBe(first.since);
    expect(second.files).toEqual(first.files);
  });

  it('a build newer than the running process is not the healthy one: nothing is recorded', () => {
    const root = workspace();
    const started = Date.parse('2026-12-06T10:00:00Z');
    setMtime(root, 'services/form/dist/index.js', started + 30_000);
    recordHealthy(root, [{ service: service(root), startedAt: started }], started + 40_000);
    expect(() => state(root)).toThrow();
  });

  it('a source edited after the build it is part of is marked unbuilt (its built content is unknown)', () => {
    const root = workspace();
    const built = Date.parse('2026-12-06T10:00:00Z');
    setMtime(root, 'services/form/dist/index.js', built);
    setMtime(root, 'services/form/src/index.ts', built + 10_000);
    setMtime(root, 'packages/service-kit/src/app.ts', built - 10_000);
    recordHealthy(root, [{ service: service(root), startedAt: built + 500 }], built + 20_000);
    const files = state(root)['form-service'].files;
    expect(files['services/form/src/index.ts']).toBe(UNBUILT);
    expect(files['packages/service-kit/src/app.ts']).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('headCommit reads HEAD from the files git keeps, as git rev-parse does', () => {
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();

  it('a branch with a loose ref, the same after pack-refs, a detached HEAD, a linked worktree, no repository', () => {
    dir = tempDir('devctl-head-');
    const repo = join(dir.path, 'repo');
    mkdirSync(join(repo, 'sub'), { recursive: true });
    git(repo, 'init', '-q');
    expect(headCommit(repo)).toBeNull(); // unborn branch
    writeFileSync(join(repo, 'sub', 'a.txt'), 'a\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'one');
    const first = git(repo, 'rev-parse', 'HEAD');
    expect(headCommit(join(repo, 'sub'))).toBe(first);
    git(repo, 'pack-refs', '--all');
    expect(headCommit(repo)).toBe(first);
    git(repo, 'commit', '-qm', 'two', '--allow-empty');
    const second = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'worktree', 'add', '-q', '-b', 'other', join(dir.path, 'linked'), first);
    expect(headCommit(join(dir.path, 'linked'))).toBe(first);
    git(repo, 'checkout', '-q', '--detach', first);
    expect(headCommit(repo)).toBe(first);
    git(repo, 'checkout', '-q', '-');
    expect(headCommit(repo)).toBe(second);
    expect(headCommit(join(dir.path))).toBeNull();
  });
});

describe('an uncommitted edit that ran when the service last worked, since undone', () => {
  // Trial 4: a slow handler (an uncommitted edit) was verified "healthy" by restart --wait, then
  // undone with git checkout. The warning said "uncommitted" and its git diff showed nothing.
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd,
      encoding: 'utf8',
    }).trim();

  it('is marked as committed again, and alone it is no warning', () => {
    dir = tempDir('devctl-changes-undone-');
    const root = dir.path;
    const file = 'services/orders/src/routes/items.ts';
    mkdirSync(join(root, dirname(file)), { recursive: true });
    writeFileSync(join(root, 'services/orders/package.json'), '{"name":"orders"}\n');
    writeFileSync(join(root, file), 'export const items = () => [];\n');
    git(root, 'init', '-q');
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'works');
    const commit = git(root, 'rev-parse', 'HEAD');
    // The build verified healthy ran an uncommitted edit...
    writeFileSync(join(root, file), 'export const items = async () => { await sleep(8000); return []; };\n');
    const folders = sourcePaths(root, 'services/orders');
    const record = {
      time: new Date().toISOString(),
      since: new Date().toISOString(),
      commit,
      build: null,
      buildSize: null,
      buildMtimeMs: null,
      files: fingerprint(root, folders),
    };
    // ...undone since.
    git(root, 'checkout', '--', file);
    const changes = changesSinceHealthy(root, [{ name: 'orders', folder: 'services/orders' }], {
      orders: record,
    }).get('orders');
    expect(changes?.files).toEqual([{ path: file, change: 'modified', sameAsCommit: true }]);
    // Nothing else found: no warning (most often a reverted experiment)...
    expect(changedSinceHealthyFindings([], new Map([['orders', changes as Changes]]))).toEqual([]);
    // ...and with a finding, the change rides on it, named for what it is.
    const finding: Finding = {
      kind: 'crash-loop',
      service: 'orders',
      severity: 'error',
      summary: 's',
      evidence: [],
      location: null,
      next: 'n',
    };
    const [led] = withChanges([finding], () => changes);
    expect(led?.changes?.files[0]?.sameAsCommit).toBe(true);
    // It leads nowhere: its git diff shows nothing.
    expect(led?.next).toBe('n');

    // The control: an edit that still differs from the commit is "uncommitted", with its diff.
    writeFileSync(join(root, file), 'export const items = () => [1];\n');
    const edited = changesSinceHealthy(root, [{ name: 'orders', folder: 'services/orders' }], {
      orders: record,
    }).get('orders');
    expect(edited?.files).toEqual([{ path: file, change: 'modified' }]);
    const [control] = changedSinceHealthyFindings([], new Map([['orders', edited as Changes]]));
    expect(control?.summary).toMatch(/, uncommitted\)$/);
  });
});
