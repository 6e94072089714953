// What runs that is not the committed repository, in diagnose's checked lines (trial 5: a wrong SQL
// column in data-service and a relative EMAIL_OUTBOX_DIR in services/email/.env left no trace in any
// log; "stack healthy" was all diagnose said). A temporary git repository, no PM2.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type TempDir, tempDir } from '@repo/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../src/diagnose/collect';
import type { ResolvedVariable, ServiceConfig } from '../src/diagnose/config-snapshot';
import { localEditLines, uncommittedEdits } from '../src/diagnose/local-edits';
import { renderReport } from '../src/diagnose/render';

let dir: TempDir | undefined;
afterEach(() => dir?.cleanup());

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  });

const DAY = 86_400_000;
/** Commits everything as made `daysAgo` days ago. */
function commitAt(cwd: string, message: string, daysAgo: number) {
  const date = new Date(Date.now() - daysAgo * DAY).toISOString();
  git(cwd, 'add', '-A');
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', message], {
    cwd,
    env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  });
}

function write(root: string, path: string, text: string) {
  mkdirSync(join(root, dirname(path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** A workspace of two services that both bundle packages/kit, committed. */
function repository(): string {
  dir = tempDir('devctl-local-edits-');
  const root = dir.path;
  write(root, 'pnpm-workspace.yaml', "packages:\n  - 'packages/*'\n  - 'services/*'\n");
  write(root, 'ecosystem.config.js', 'module.exports = { apps: [] };\n');
  write(root, '.gitignore', '.env\n');
  write(root, 'packages/kit/package.json', '{"name":"@repo/kit"}\n');
  write(root, 'packages/kit/src/index.ts', 'export const kit = 1;\n');
  for (const name of ['data', 'email']) {
    write(
      root,
      `services/${name}/package.json`,
      `{"name":"@repo/${name}","dependencies":{"@repo/kit":"workspace:*"}}\n`,
    );
    write(root, `services/${name}/src/index.ts`, `export const ${name} = 1;\n`);
  }
  git(root, 'init', '-q');
  // A month old: older than the recent commits the checked lines list.
  commitAt(root, 'works', 30);
  return root;
}

function snapshotOf(
  root: string,
  configs?: Map<string, ServiceConfig>,
  selected = ['data-service', 'email-service'],
): Snapshot {
  const entry = (name: string) => ({ name: `${name}-service`, folder: `services/${name}`, kind: 'service' });
  return {
    ecosystem: { root, services: [entry('data'), entry('email')] },
    now: Date.now(),
    selected: new Set(selected),
    services: [{ entry: entry('data') }, { entry: entry('email') }],
    ...(configs ? { config: { configs } } : {}),
  } as unknown as Snapshot;
}

describe('uncommitted edits and .env settings in the checked lines', () => {
  it('a clean checkout: says so, and no .env line', () => {
    const root = repository();
    expect(localEditLines(snapshotOf(root))).toEqual([
      'uncommitted edits in what the services run (git diff HEAD): none',
    ]);
  });

  it('names each edited, new and deleted file with the services that run it', () => {
    const root = repository();
    write(root, 'services/data/src/index.ts', 'export const data = 2;\n');
    write(root, 'services/data/src/store.ts', 'export const store = 1;\n');
    rmSync(join(root, 'services/email/src/index.ts'));
    write(root, 'packages/kit/src/index.ts', 'export const kit = 2;\n');
    write(root, 'services/email/.env', 'EMAIL_OUTBOX_DIR=services/email/outbox\n');
    expect(uncommittedEdits(root, ['services/data/src'])).toEqual([
      { path: 'services/data/src/index.ts', change: 'modified' },
      { path: 'services/data/src/store.ts', change: 'added' },
    ]);
    expect(localEditLines(snapshotOf(root))).toEqual([
      'uncommitted edits in what the services run (git diff HEAD -- <file>): packages/kit/src/index.ts (modified; every service), services/data/src/index.ts (modified; data-service), services/data/src/store.ts (added; data-service), services/email/src/index.ts (deleted; email-service)',
    ]);
  });

  it('an edit of ecosystem.config.js is an edit of what every service runs', () => {
    // Trial 18: an uncommitted WORKER_POLL_INTERVAL_MS of a minute in worker-service's env there.
    const root = repository();
    write(
      root,
      'ecosystem.config.js',
      "module.exports = { apps: [], env: { WORKER_POLL_INTERVAL_MS: '60000' } };\n",
    );
    expect(localEditLines(snapshotOf(root))[0]).toBe(
      'uncommitted edits in what the services run (git diff HEAD -- <file>): ecosystem.config.js (modified; every service)',
    );
  });

  it('lists the settings taken from .env files, secrets masked', () => {
    const root = repository();
    const variable = (name: string, value: string, source: string, file: string, line: number | null) =>
      ({ name, value, source, place: { file, line } }) satisfies ResolvedVariable;
    const configs = new Map<string, ServiceConfig>([
      [
        'email-service',
        {
          service: 'email-service',
          variables: new Map<string, ResolvedVariable>([
            ['PORT', variable('PORT', '3002', 'default', 'services/email/src/config.ts', null)],
            [
              'EMAIL_OUTBOX_DIR',
              variable('EMAIL_OUTBOX_DIR', 'services/email/outbox', 'service .env', 'services/email/.env', 2),
            ],
            ['SMTP_PASSWORD', variable('SMTP_PASSWORD', 'hunter2-secret', 'root .env', '.env', 4)],
            // Set in a .env to the schema's default: no change, not a lead.
            [
              'SMTP_PORT',
              { ...variable('SMTP_PORT', '587', 'service .env', 'services/email/.env', 3), default: '587' },
            ],
            [
              'RETRY_MS',
              { ...variable('RETRY_MS', '50', 'service .env', 'services/email/.env', 5), default: '500' },
            ],
          ]),
        },
      ],
    ]);
    const lines = localEditLines(snapshotOf(root, configs));
    expect(lines[1]).toBe(
      'settings from .env files instead of defaults (pnpm devctl env <service>): email-service EMAIL_OUTBOX_DIR=services/email/outbox (services/email/.env:2), email-service SMTP_PASSWORD=**** (.env:4), email-service RETRY_MS=50 (services/email/.env:5)',
    );
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it('lists the last commits that changed what the services run, newest first, with their files and services', () => {
    const root = repository();
    write(root, 'README.md', 'not what a service runs\n');
    commitAt(root, 'docs', 0.01);
    write(root, 'services/email/src/index.ts', 'export const email = 2;\n');
    commitAt(root, 'email: tidy up', 2);
    write(root, 'services/data/src/index.ts', 'export const data = 2;\n');
    commitAt(root, 'data: accept choices whatever their case', 0.1);
    const lines = localEditLines(snapshotOf(root));
    expect(lines[0]).toBe('uncommitted edits in what the services run (git diff HEAD): none');
    expect(lines[1]).toMatch(
      /^recent commits in what the services run \(git show <commit> -- <file>\): [0-9a-f]{7,} 2 h ago "data: accept choices whatever their case" \(services\/data\/src\/index\.ts; data-service\), [0-9a-f]{7,} 2 days ago "email: tidy up" \(services\/email\/src\/index\.ts; email-service\)$/,
    );
    // The rest is older than the fortnight listed, or outside what the services run.
    expect(lines[1]).not.toMatch(/"works"|"docs"/);
    expect(renderReport({ healthy: true, checked: lines, findings: [] })).toMatch(
      /^if a request still gives a wrong answer: start from the edits, recent commits and \.env settings above/m,
    );
  });

  it('outside git: no line about edits', () => {
    dir = tempDir('devctl-local-edits-nogit-');
    expect(localEditLines(snapshotOf(dir.path))).toEqual([]);
  });

  it('"stack healthy" with local edits points at them; a clean checkout does not', () => {
    const root = repository();
    const hint =
      /^if a request still gives a wrong answer: start from the edits, recent commits and \.env settings above/m;
    const clean = renderReport({ healthy: true, checked: localEditLines(snapshotOf(root)), findings: [] });
    expect(clean).not.toMatch(hint);
    write(root, 'services/data/src/index.ts', 'export const data = 2;\n');
    const edited = renderReport({ healthy: true, checked: localEditLines(snapshotOf(root)), findings: [] });
    expect(edited).toMatch(hint);
    // The headline says there are leads below, so that a reader does not stop at "healthy".
    expect(clean.split('\n')[0]).toBe('✔ stack healthy: no problem found');
    expect(edited.split('\n')[0]).toBe(
      '✔ nothing is crashing or logging errors; for a wrong answer, 1 lead below: uncommitted edits',
    );
    // With a finding, the leads still follow it: a second fault that logs nothing hides there.
    const finding = {
      kind: 'request-error' as const,
      service: 'data-service',
      severity: 'error' as const,
      summary: 'data-service answered 500 to POST /forms',
      evidence: [],
      location: null,
      next: 'pnpm devctl logs data-service',
    };
    const checked = localEditLines(snapshotOf(root));
    const withFinding = renderReport({ healthy: false, checked, findings: [finding] });
    expect(withFinding).toMatch(
      /\nfor a wrong answer the findings above do not explain, what runs differs from the committed repository:\n {2}uncommitted edits in what the services run \(git diff HEAD -- <file>\): services\/data\/src\/index\.ts \(modified; data-service\)/,
    );
    // Only the leads: not every checked line.
    expect(withFinding).not.toContain('checked:');
    expect(
      renderReport({
        healthy: false,
        checked: localEditLines(snapshotOf(repository())),
        findings: [finding],
      }),
    ).not.toContain('for a wrong answer the findings above');
  });

  it("lists the frontend's own edits and commits when the whole stack is looked at, and says where its errors are", () => {
    const root = repository();
    write(root, 'apps/web/package.json', '{"name":"@repo/web"}\n');
    write(root, 'apps/web/src/api/client.ts', 'export const client = 1;\n');
    write(root, 'apps/web/src/pages/FillFormPage.tsx', 'export const page = 1;\n');
    write(root, 'apps/web/e2e/flow.test.ts', 'export const flow = 1;\n');
    commitAt(root, 'web: the first pages', 30);
    // Untouched for a month: no frontend line (a frontend nobody changed is no lead).
    expect(localEditLines(snapshotOf(root)).join('\n')).not.toContain('frontend');
    write(root, 'apps/web/src/pages/FillFormPage.tsx', 'export const page = 2;\n');
    commitAt(root, 'web: the thank-you card says when', 0.01);
    // Its tests are not what the page runs: a commit of a browser test alone, an edited component test.
    write(root, 'apps/web/e2e/flow.test.ts', 'export const flow = 2;\n');
    commitAt(root, 'web: a slower flow test', 0.005);
    write(root, 'apps/web/src/api/client.test.ts', 'export const mock = 2;\n');
    write(root, 'apps/web/src/api/client.ts', 'export const client = 2;\n');
    const lines = localEditLines(snapshotOf(root));
    expect(lines.join('\n')).not.toMatch(/slower flow test|client\.test\.ts/);
    expect(lines).toContain(
      'uncommitted edits in the frontend (apps/web, not under PM2; git diff HEAD -- <file>): apps/web/src/api/client.ts (modified)',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^recent commits in the frontend \(apps\/web; git show <commit> -- <file>\): [0-9a-f]{7,} \d+ min ago "web: the thank-you card says when" \(apps\/web\/src\/pages\/FillFormPage\.tsx\)$/,
      ),
    );
    // The services' lines stay the services': nothing of apps/web there.
    expect(lines[0]).toBe('uncommitted edits in what the services run (git diff HEAD): none');
    const text = renderReport({ healthy: true, checked: lines, findings: [] });
    expect(text.split('\n')[0]).toBe(
      "✔ nothing is crashing or logging errors; for a wrong answer, 2 leads below: the frontend's uncommitted edits, the frontend's recent commits",
    );
    expect(text).toMatch(
      /^if the page shows an error or a stale or wrong value while the services answer 2xx .*the fault is in the frontend's code/m,
    );
    // One service looked at (a restart's verdict, `diagnose data-service`): the frontend is not it.
    expect(localEditLines(snapshotOf(root, undefined, ['data-service'])).join('\n')).not.toContain(
      'frontend',
    );
  });
});
