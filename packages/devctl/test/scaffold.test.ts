// `devctl new service`, `remove service` and `init` without installing anything: the text edits,
// the names, the refusals of the real CLI (exit code, message, nothing written), and the files of
// a project made by `init`. The end-to-end runs (install, build, PM2) are scaffold-e2e and init-e2e.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { serviceUrlVariable } from '@repo/stack-contract';
import { freePort, tempDir } from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEcosystem } from '../src/ecosystem/index';
import {
  insertServiceLine,
  parseServiceLines,
  removeServiceLine,
  rewriteDependencies,
  setNamespace,
} from '../src/scaffold/ecosystem-text';
import {
  handWrittenApiSegments,
  insertGeneratedRoute,
  parseGeneratedRoutes,
  REGISTRY_FILE,
  removeGeneratedRoute,
} from '../src/scaffold/gateway-text';
import { projectNameProblem, serviceNameProblem } from '../src/scaffold/names';
import { pickPort } from '../src/scaffold/ports';
import { planProject } from '../src/scaffold/project';
import { isNeverCopied, listProjectFiles } from '../src/scaffold/project-files';
import { checkServiceLists } from '../src/scaffold/service-lists';
import {
  devctl,
  devctlBin,
  gitIdentity,
  initProject,
  type Project,
  run,
  said,
  servicesKeptWithoutSamples,
  templateRoot,
  unusedServiceName,
  unusedServiceNames,
  unusedServicePort,
} from './scaffold-helpers';

const ecosystemText = readFileSync(join(templateRoot, 'ecosystem.config.js'), 'utf8');
const registryText = readFileSync(join(templateRoot, REGISTRY_FILE), 'utf8');
const templateName = (
  JSON.parse(readFileSync(join(templateRoot, 'package.json'), 'utf8')) as { name: string }
).name;

/**
 * The stack identity a text test loads the file with: the first checkout's (block 0, the project's
 * namespace), so the documented ports and namespace written in the text are what it loads. Which
 * block a checkout gets is stack-contract's test (stack-identity.test.ts), not the text edits'.
 */
const FIRST_CHECKOUT =
  "({ stackIdentity: (root, o) => ({ root, namespace: o.namespace, block: 0, offset: 0, web: o.web, reason: '' }), stackEnv: () => ({}) })";

/** Loads ecosystem text as PM2 does (require), from a scratch folder. */
function loadText(text: string): {
  apps: { name: string; cwd: string; env: { PORT: string }; depends_on: string[] }[];
} {
  const dir = tempDir('ecosystem-text-');
  try {
    const identity = "require('./packages/stack-contract/src/stack-identity.cjs')";
    writeFileSync(join(dir.path, 'ecosystem.config.js'), text.replace(identity, FIRST_CHECKOUT));
    return createRequire(join(dir.path, 'x.js'))('./ecosystem.config.js');
  } finally {
    dir.cleanup();
  }
}

describe('service and project names', () => {
  it.each(['billing', 'user-profile', 'v2', 'a1-b2'])('accepts the service name %s', (name) => {
    expect(serviceNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['Billing', 'use lowercase: billing'],
    ['bad_name', 'lowercase letters and digits'],
    ['1billing', 'lowercase letters and digits'],
    ['double--hyphen', 'lowercase letters and digits'],
    ['trailing-', 'lowercase letters and digits'],
    ['billing-service', 'leave out "-service"'],
    ['api-gateway', 'package of the template'],
    ['', 'empty'],
    ['x'.repeat(41), 'longer than 40'],
  ])('refuses the service name %j: %s', (name, problem) => {
    expect(serviceNameProblem(name)).toContain(problem);
  });

  it.each([
    ['my-app', undefined],
    ['acme', undefined],
    ['app', 'too generic'],
    ['data', 'too generic'],
    ['My App', 'lowercase letters and digits'],
  ])('project name %j: %s', (name, problem) => {
    if (problem === undefined) expect(projectNameProblem(name)).toBeUndefined();
    else expect(projectNameProblem(name)).toContain(problem);
  });
});

/**
 * The new service of the text and refusal tests: billing, unless this checkout has one already
 * (then billing2...), on a port no service of it uses.
 */
const fresh = unusedServiceName(templateRoot, 'billing');
const freshPort = unusedServicePort(templateRoot, 3999);

describe('ecosystem.config.js as text', () => {
  const billing = { name: `${fresh}-service`, folder: fresh, port: freshPort, dependsOn: ['data-service'] };
  const billingLine = `service('${fresh}-service', '${fresh}', ${freshPort}, ['data-service']),`;

  it('adds one service() line that PM2 loads, keeping every other line', () => {
    const added = insertServiceLine(ecosystemText, billing);
    expect(added.split('\n')).toHaveLength(ecosystemText.split('\n').length + 1);
    // After the last service, before the tools (the log rotator).
    expect(added).toContain(`    ${billingLine}\n    logRotator(),\n  ],`);
    const app = loadText(added).apps.find((a) => a.name === `${fresh}-service`);
    expect(app).toMatchObject({ env: { PORT: String(freshPort) }, depends_on: ['data-service'] });
    expect(app?.cwd.endsWith(join('services', fresh))).toBe(true);
  });

  it('removing the line gives back the text exactly', () => {
    expect(removeServiceLine(insertServiceLine(ecosystemText, billing), `${fresh}-service`)).toBe(
      ecosystemText,
    );
    expect(removeServiceLine(ecosystemText, 'no-such-service')).toBeUndefined();
  });

  it('opens up an apps array a formatter put on one line', () => {
    const oneLine =
      "module.exports = {\n  apps: [service('api-gateway', 'api-gateway', 3000, ['a', 'b'])],\n};\n";
    expect(insertServiceLine(oneLine, billing)).toBe(
      `module.exports = {\n  apps: [\n    service('api-gateway', 'api-gateway', 3000, ['a', 'b']),\n    ${billingLine}\n  ],\n};\n`,
    );
  });

  it('adds the first service before the tools, and refuses entries it cannot read', () => {
    const toolsOnly = 'module.exports = {\n  apps: [\n    // tools\n    logRotator(),\n  ],\n};\n';
    expect(insertServiceLine(toolsOnly, billing)).toBe(
      `module.exports = {\n  apps: [\n    // tools\n    ${billingLine}\n    logRotator(),\n  ],\n};\n`,
    );
    const handWritten = "module.exports = {\n  apps: [\n    { name: 'x', script: 'x.js' },\n  ],\n};\n";
    expect(() => insertServiceLine(handWritten, billing)).toThrow(/not service\(\.\.\.\) lines/);
  });

  it('reads every service() line, rewrites dependencies and the namespace', () => {
    const lines = parseServiceLines(ecosystemText);
    const declared = loadText(ecosystemText).apps as unknown as { devctl_role?: string }[];
    expect(lines.length).toBe(declared.filter((app) => app.devctl_role !== 'tool').length);
    expect(declared.length).toBe(lines.length + 1);
    const rewritten = setNamespace(
      rewriteDependencies(ecosystemText, (line) => line.dependsOn.filter((d) => d !== 'data-service')),
      'acme',
    );
    const apps = loadText(rewritten).apps;
    expect(apps.flatMap((a) => a.depends_on)).not.toContain('data-service');
    expect(new Set(apps.map((a) => (a as unknown as { namespace: string }).namespace))).toEqual(
      new Set(['acme']),
    );
  });
});

describe("the gateway's generated routes as text", () => {
  const entry = {
    prefix: `/api/${fresh}`,
    service: `${fresh}-service`,
    port: freshPort,
    auth: 'public' as const,
  };
  // Two more services this checkout has not got, for the cases that add several.
  const ledger = unusedServiceName(templateRoot, 'ledger', [fresh]);
  const quietName = unusedServiceName(templateRoot, 'quiet', [fresh, ledger]);
  const ledgerPort = unusedServicePort(templateRoot, freshPort - 1);
  const quietPort = unusedServicePort(templateRoot, ledgerPort - 1);
  /** The entries `devctl new service` already wrote into this checkout's registry (none in the template). */
  const existing = parseGeneratedRoutes(registryText);
  /** The registry file with its array emptied: the comment and code around the entries. */
  const emptied = registryText.replace(/= \[[\s\S]*?\];/, '= [];');

  it('adds one entry and removing it gives back the text exactly', () => {
    const added = insertGeneratedRoute(registryText, entry);
    expect(parseGeneratedRoutes(added)).toContainEqual(entry);
    const twice = insertGeneratedRoute(added, {
      ...entry,
      prefix: `/api/${ledger}`,
      service: `${ledger}-service`,
      port: ledgerPort,
    });
    expect(parseGeneratedRoutes(twice).map((r) => r.service)).toContain(`${ledger}-service`);
    const back = removeGeneratedRoute(
      removeGeneratedRoute(twice, `${ledger}-service`) as string,
      `${fresh}-service`,
    );
    expect(back).toBe(registryText);
  });

  it('registers a service without a route too (for /api/health), and reads entries laid out by hand', () => {
    const quiet = { service: `${quietName}-service`, port: quietPort };
    const added = insertGeneratedRoute(insertGeneratedRoute(registryText, entry), quiet);
    expect(parseGeneratedRoutes(added)).toEqual([...existing, entry, quiet]);
    expect(
      removeGeneratedRoute(removeGeneratedRoute(added, `${quietName}-service`) as string, `${fresh}-service`),
    ).toBe(registryText);
    const byHand = emptied.replace(
      /= \[\];/,
      `= [\n  {\n    service: '${ledger}-service',\n    prefix: "/api/${ledger}",\n    auth: 'bearer',\n    port: ${ledgerPort},\n  },\n];`,
    );
    expect(parseGeneratedRoutes(byHand)).toEqual([
      { prefix: `/api/${ledger}`, service: `${ledger}-service`, port: ledgerPort, auth: 'bearer' },
    ]);
    // The examples in the file's comment are not entries.
    expect(emptied).toMatch(/\/\/ +\{ prefix: '\/api\//);
    expect(parseGeneratedRoutes(emptied)).toEqual([]);
  });

  it("knows the gateway's hand-written /api routes", () => {
    const segments = handWrittenApiSegments(templateRoot);
    expect(segments.has('health')).toBe(true);
    expect(segments.has('no-such-segment')).toBe(false);
    // The routes devctl generated are not hand-written ones.
    for (const route of existing.filter((r) => r.prefix))
      expect(segments.has((route.prefix as string).split('/')[2] as string), route.prefix).toBe(false);
  });
});

describe('the files init copies', () => {
  it.each([
    ['services/data/data/app.db', true],
    ['services/email/outbox/x.eml', true],
    ['services/form/logs/out.log', true],
    ['services/form/.env', true],
    ['.env.local', true],
    ['node_modules/x/index.js', true],
    ['packages/devctl/dist/main.cjs', true],
    ['.secrets/jwt-secret', true],
    // The export's output: copied with the project renamed in it (test/init-files.test.ts).
    ['deploy/compose.yaml', false],
    ['deploy/k8s/base/kustomization.yaml', false],
    ['.env.example', false],
    ['services/data/src/db.ts', false],
    ['packages/devctl/src/logs/index.ts', false],
  ])('%s never copied: %s', (path, never) => {
    expect(isNeverCopied(path)).toBe(never);
  });

  it('are what git lists in a checkout', () => {
    const { files, source } = listProjectFiles(templateRoot);
    expect(source).toBe('git');
    expect(files).toContain('ecosystem.config.js');
    expect(files).toContain('services/api-gateway/src/routes/generated.ts');
    expect(files.some((f) => f.includes('node_modules/'))).toBe(false);
  });
});

describe('devctl new service and remove service refuse, and write nothing', () => {
  let project: Project;
  let listener: Server;
  let listeningPort: number;
  const ecosystemOf = () => readFileSync(join(project.root, 'ecosystem.config.js'), 'utf8');
  let before: string;
  // No daemon runs here: removals must not look at the developer's ~/.pm2.
  const pm2Home = tempDir('pm2-no-daemon-');
  // Names of services this checkout does not have yet, each test's own (see unusedServiceName).
  const [spare, notes, plain, ledger] = unusedServiceNames(
    templateRoot,
    ['spare', 'notes', 'plain', 'ledger'],
    [fresh],
  );
  const Fresh = `${fresh.charAt(0).toUpperCase()}${fresh.slice(1)}`;

  beforeAll(async () => {
    project = await initProject('refusals');
    // A service of its own to remove: each sample is called by the gateway's code, so removing one
    // is refused (tested below).
    const made = await devctl(project.root, ['new', 'service', spare]);
    if (made.code !== 0) throw new Error(`new service ${spare} failed: ${said(made)}`);
    before = ecosystemOf();
    listeningPort = await freePort();
    listener = createServer();
    await new Promise<void>((resolve) => listener.listen(listeningPort, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(async () => {
    await new Promise((resolve) => listener?.close(resolve));
    project?.cleanup();
    pm2Home.cleanup();
  });

  it.each([
    [
      ['new', 'service', Fresh],
      2,
      new RegExp(`"${Fresh}" is not a valid service name: use lowercase: ${fresh}`),
    ],
    [['new', 'service', `${fresh}_2`], 2, /not a valid service name/],
    [
      ['new', 'service', `${fresh}-service`],
      2,
      new RegExp(`leave out "-service".*devctl new service ${fresh}\\b`),
    ],
    [['new', 'service', fresh, '--port', 'abc'], 2, /--port must be a port number/],
    [
      ['new', 'service', fresh, '--depends-on', 'data-servce'],
      2,
      /unknown service "data-servce".*did you mean data-service\?/,
    ],
    [['new', 'service', fresh, '--route', fresh], 2, /--route must look like \/api\/<name>/],
    [['new', 'service', 'form'], 1, /services\/form already exists/],
    [['new', 'service', fresh, '--port', '3004'], 1, /port 3004 is taken: data-service uses it/],
    [['new', 'service', fresh, '--route', '/api/forms'], 1, /already routes \/api\/forms/],
    [['remove', 'service', 'nothing-here', '--yes'], 2, /no service "nothing-here"/],
    [['remove', 'service', 'data', '--yes'], 1, /depend on data-service.*Nothing was removed/],
    // No service depends on it, but the gateway's own code calls it.
    [
      ['remove', 'service', 'scheduler', '--yes'],
      1,
      /still names scheduler-service or SCHEDULER_SERVICE_URL: services\/api-gateway\/src\/config\.ts:\d+, services\/api-gateway\/src\/upstreams\.ts:\d+; .*Nothing was removed/,
    ],
    [['remove', 'service', spare], 2, /pass --yes to confirm/],
  ])('devctl %s exits %i', async (args, code, message) => {
    const result = await devctl(project.root, args);
    expect(result.code, said(result)).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(ecosystemOf()).toBe(before);
    expect(existsSync(join(project.root, 'services', fresh))).toBe(false);
    expect(existsSync(join(project.root, 'services', 'form'))).toBe(true);
  });

  it('asks on a terminal, and removes only after yes', async () => {
    // `script` gives devctl a pseudo-terminal, as a person at a shell has.
    const onTerminal = (answer: string) =>
      run('script', ['-qec', `${process.execPath} ${devctlBin} remove service ${spare}`, '/dev/null'], {
        cwd: project.root,
        input: `${answer}\n`,
        env: { PM2_HOME: pm2Home.path },
      });
    const declined = await onTerminal('n');
    expect(declined.code, said(declined)).toBe(1);
    expect(declined.stdout).toContain(`Remove the folder services/${spare}`);
    expect(declined.stdout).toContain('nothing was removed (not confirmed)');
    expect(existsSync(join(project.root, 'services', spare))).toBe(true);
    expect(ecosystemOf()).toBe(before);

    const accepted = await onTerminal('y');
    expect(accepted.code, said(accepted)).toBe(0);
    expect(existsSync(join(project.root, 'services', spare))).toBe(false);
    expect(ecosystemOf()).not.toContain(`service('${spare}-service'`);
    expect(accepted.stdout).toContain(`${spare}-service: no PM2 daemon runs`);
    before = ecosystemOf();
  });

  it('refuses a port something listens on, naming the process', async () => {
    const result = await devctl(project.root, ['new', 'service', fresh, '--port', String(listeningPort)]);
    expect(result.code, said(result)).toBe(1);
    expect(result.stderr).toContain(
      `port ${listeningPort} is taken: port ${listeningPort} is held by pid ${process.pid}`,
    );
    expect(ecosystemOf()).toBe(before);
  });

  it('picks a port above every ecosystem port, skipping one that is listened on', async () => {
    const picked = await pickPort(new Set([listeningPort - 1]));
    expect(picked).toBeGreaterThan(listeningPort);

    const highest = Math.max(...parseServiceLines(before).map((l) => l.port));
    const result = await devctl(project.root, ['new', 'service', notes, '--json']);
    expect(result.code, said(result)).toBe(0);
    const { service } = JSON.parse(result.stdout);
    expect(service.port).toBeGreaterThan(highest);
    expect(service).toMatchObject({
      pm2Name: `${notes}-service`,
      package: `@repo/${notes}`,
      dependsOn: [],
      route: null,
    });
    const removed = await devctl(project.root, ['remove', 'service', notes, '--yes']);
    expect(removed.code, said(removed)).toBe(0);
    expect(ecosystemOf()).toBe(before);
  });

  it('writes services that pass the lint, with no, one or two dependencies', async () => {
    const made = [
      ['new', 'service', plain],
      ['new', 'service', ledger, '--depends-on', 'data-service,auth-service', '--route', `/api/${ledger}`],
    ];
    for (const args of made) {
      const result = await devctl(project.root, args);
      expect(result.code, said(result)).toBe(0);
    }
    const biome = join(templateRoot, 'node_modules', '.bin', 'biome');
    const lint = await run(
      biome,
      [
        'check',
        `services/${plain}`,
        `services/${ledger}`,
        REGISTRY_FILE,
        'ecosystem.config.js',
        'packages/stack-tests/package.json',
        'packages/reliability-tests/package.json',
        'README.md',
        'AGENTS.md',
      ],
      {
        cwd: project.root,
      },
    );
    expect(lint.code, said(lint)).toBe(0);
    for (const name of [ledger, plain]) {
      const result = await devctl(project.root, ['remove', 'service', name, '--yes']);
      expect(result.code, said(result)).toBe(0);
    }
    expect(ecosystemOf()).toBe(before);
  });
});

describe('devctl init', () => {
  let lean: Project;
  // api-gateway, and the checkout's own services that need no sample (none in the template).
  const kept = servicesKeptWithoutSamples(templateRoot);
  beforeAll(async () => {
    lean = await initProject('lean-app', ['--no-samples']);
  }, 120_000);
  afterAll(() => lean?.cleanup());
  const leanFile = (path: string) => readFileSync(join(lean.root, path), 'utf8');

  it('refuses a folder that is not empty, a bad name, and a folder inside the project', async () => {
    const parent = tempDir('devctl-init-refusals-');
    try {
      const busy = join(parent.path, 'busy');
      mkdirSync(busy);
      writeFileSync(join(busy, 'notes.txt'), 'mine');
      const notEmpty = await devctl(templateRoot, ['init', busy]);
      expect(notEmpty.code, said(notEmpty)).toBe(1);
      expect(notEmpty.stderr).toContain('already exists and is not empty');
      expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('mine');

      const badName = await devctl(templateRoot, ['init', join(parent.path, 'Bad Name')]);
      expect(badName.code, said(badName)).toBe(2);
      expect(badName.stderr).toContain('Pass one with --name');

      const inside = await devctl(templateRoot, ['init', join(templateRoot, 'nested-app')]);
      expect(inside.code, said(inside)).toBe(2);
      expect(existsSync(join(templateRoot, 'nested-app'))).toBe(false);
    } finally {
      parent.cleanup();
    }
  });

  it('--no-samples keeps api-gateway, the kit, devctl, test-utils and the frontend, and drops the samples', () => {
    for (const kept of [
      'services/api-gateway',
      'packages/service-kit',
      'packages/devctl',
      'packages/test-utils',
      'apps/web',
    ])
      expect(existsSync(join(lean.root, kept, 'package.json')), kept).toBe(true);
    for (const dropped of ['auth', 'form', 'email', 'data', 'worker', 'scheduler'])
      expect(existsSync(join(lean.root, 'services', dropped)), dropped).toBe(false);
    expect(existsSync(join(lean.root, 'packages', 'stack-tests'))).toBe(false);
    const apps = loadText(leanFile('ecosystem.config.js')).apps;
    // The log rotator is a tool of every project, not a sample: it stays.
    expect(kept[0]).toBe('api-gateway');
    expect(apps.map((a) => a.name)).toEqual([...kept, 'devctl-logrotate']);
    expect(apps[0]?.depends_on).toEqual([]);
    expect(existsSync(join(lean.root, 'services/api-gateway/src/routes/forms.ts'))).toBe(false);
    expect(JSON.parse(leanFile('services/api-gateway/package.json')).dependencies).not.toHaveProperty(
      '@fastify/rate-limit',
    );
  });

  it("--no-samples: the docs' service tables list the project's services only", () => {
    const ecosystem = loadEcosystem(lean.root);
    expect(ecosystem.services.map((s) => s.name)).toEqual(kept);
    expect(checkServiceLists(ecosystem)).toEqual([]);
    expect(leanFile('README.md')).toMatch(/\| api-gateway +\| services\/api-gateway +\| 3000 +\|/);
    expect(leanFile('AGENTS.md')).not.toContain('| scheduler-service ');
  });

  it("--no-samples keeps the frontend's shell and status page, with a start page instead of the forms pages", () => {
    const web = (path: string) => join(lean.root, 'apps/web', path);
    for (const kept of [
      'src/main.tsx',
      'src/router/router.tsx',
      'src/api/client.ts',
      'src/session/session.tsx',
      'src/components/ErrorBoundary.tsx',
      'src/components/ErrorMessage.tsx',
      'src/components/useAsync.ts',
      'src/pages/StatusPage.tsx',
      'src/pages/StartPage.tsx',
      'src/styles.css',
      'e2e/hot-reload.test.ts',
    ])
      expect(existsSync(web(kept)), kept).toBe(true);
    for (const dropped of [
      'src/pages/AuthPage.tsx',
      'src/pages/FormsPage.tsx',
      'src/pages/FillFormPage.tsx',
      'src/pages/SubmissionsPage.tsx',
      'src/components/FormBuilder.tsx',
      'src/components/FormBuilder.test.tsx',
      'src/components/SubmissionForm.tsx',
      'src/components/SubmissionForm.test.tsx',
      'e2e/flow.test.ts',
    ])
      expect(existsSync(web(dropped)), dropped).toBe(false);

    const app = leanFile('apps/web/src/App.tsx');
    expect(app).toContain("if (path === '/') return <StartPage />;");
    expect(app).toContain("if (path === '/status') return <StatusPage />;");
    expect(leanFile('apps/web/src/App.test.tsx')).not.toMatch(/\/api\/(auth|forms)|FormsPage|AuthPage/);
    expect(leanFile('apps/web/README.md')).toContain('## Adding a page');
    expect(leanFile('apps/web/README.md')).not.toMatch(/\/signup|flow\.test/);
    expect(leanFile('apps/web/index.html')).toContain('<title>lean-app</title>');
    // What the hot-reload browser test edits must be in every project.
    expect(leanFile('apps/web/e2e/hot-reload.test.ts')).toContain(
      "join(copyDir, 'src', 'pages', 'StatusPage.tsx')",
    );

    // Every relative import of what stays names a file that stays (the typecheck proves it in init-e2e).
    const missing: string[] = [];
    const sources = listProjectFiles(join(lean.root, 'apps/web')).files.filter((f) => /\.tsx?$/.test(f));
    for (const source of sources) {
      for (const [, target] of leanFile(`apps/web/${source}`).matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const base = join(web(source), '..', target as string);
        if (!['', '.ts', '.tsx'].some((ext) => existsSync(base + ext)))
          missing.push(`${source} -> ${target}`);
      }
    }
    expect(sources).toContain('src/App.tsx');
    expect(missing).toEqual([]);
  });

  it('without --no-samples keeps every file of the frontend', () => {
    const full = planProject(templateRoot, { name: 'full-app', samples: true });
    const web = listProjectFiles(templateRoot).files.filter((f) => f.startsWith('apps/web/'));
    expect(web).toContain('apps/web/src/pages/FormsPage.tsx');
    expect(web.filter((f) => !full.files.has(f))).toEqual([]);
    expect(full.files.get('apps/web/src/App.tsx')?.content.toString('utf8')).toContain('<FormsPage />');
  });

  it('renames the project everywhere: package name, PM2 namespace, every other mention', async () => {
    expect(JSON.parse(leanFile('package.json')).name).toBe('lean-app');
    expect(leanFile('ecosystem.config.js')).toContain("const NAMESPACE = 'lean-app';");
    const left = await run('git', ['grep', '--untracked', '-n', '-w', templateName], { cwd: lean.root });
    expect(left.stdout, 'mentions of the old name').toBe('');
  });

  it('writes a fresh .env.example, copies no .env, secrets or logs, and commits the copy in a new git repository', async () => {
    expect(leanFile('.env.example')).toContain('# JWT_SECRET=');
    expect(leanFile('.env.example')).not.toContain('DATABASE_URL');
    expect(existsSync(join(lean.root, '.env'))).toBe(false);
    expect(existsSync(join(lean.root, '.secrets'))).toBe(false);
    expect(existsSync(join(lean.root, 'node_modules'))).toBe(false);
    // One commit, with the user's identity, holding every file as init left it (Biome's layout
    // included): turbo hashes with git only once there is a commit, and caches builds from then on.
    const log = await run('git', ['log', '--format=%an <%ae>: %s'], { cwd: lean.root });
    expect(log.stdout.trim(), said(log)).toBe(
      `${gitIdentity.GIT_AUTHOR_NAME} <${gitIdentity.GIT_AUTHOR_EMAIL}>: lean-app: start from the ${templateName} template`,
    );
    const status = await run('git', ['status', '--porcelain'], { cwd: lean.root });
    expect(status.code, said(status)).toBe(0);
    expect(status.stdout, 'files init changed after its commit').toBe('');
  });

  it('without a git identity, starts the repository uncommitted and puts the commit first in the next steps', async () => {
    const parent = tempDir('devctl-init-no-identity-');
    try {
      // Only the identity git is told to use: no guess from the user and host names.
      const gitConfig = join(parent.path, 'gitconfig');
      writeFileSync(gitConfig, '[user]\n\tuseConfigOnly = true\n');
      const target = join(parent.path, 'no-identity');
      const made = await devctl(templateRoot, ['init', target, '--no-samples'], {
        env: { GIT_CONFIG_GLOBAL: gitConfig, GIT_CONFIG_NOSYSTEM: '1' },
        timeoutMs: 120_000,
      });
      expect(made.code, said(made)).toBe(0);
      expect(made.stdout).toContain('git repository initialised, nothing committed (git commit: ');
      const next = made.stdout.slice(made.stdout.indexOf('Next:')).split('\n');
      const commitStep = next.findIndex((line) => line.includes('git add -A && git commit'));
      expect(commitStep, made.stdout).toBeGreaterThan(0);
      expect(commitStep, 'commit before the first install and build').toBeLessThan(
        next.findIndex((line) => line.trim() === 'pnpm install'),
      );
      const head = await run('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: target });
      expect(head.code, 'no commit').toBe(1);
      expect(existsSync(join(target, '.git'))).toBe(true);
    } finally {
      parent.cleanup();
    }
  });

  it('leaves files that pass the lint where it edited them', async () => {
    const biome = join(templateRoot, 'node_modules', '.bin', 'biome');
    const lint = await run(
      biome,
      ['check', 'ecosystem.config.js', 'services/api-gateway', 'apps/web', 'package.json'],
      {
        cwd: lean.root,
      },
    );
    expect(lint.code, said(lint)).toBe(0);
  });
});

describe('devctl init --no-samples of a project with services of its own', () => {
  // Made with `devctl new service` in a copy of this checkout: one that needs a sample, one that
  // needs that one, one that needs nothing.
  const [onSample, onThat, solo] = unusedServiceNames(templateRoot, ['invoices', 'receipts', 'solo']);
  let grown: Project;
  let lean: Project;
  let made: Awaited<ReturnType<typeof devctl>>;
  const leanFile = (path: string) => readFileSync(join(lean.root, path), 'utf8');

  beforeAll(async () => {
    grown = await initProject('grown');
    for (const args of [
      [onSample, '--depends-on', 'data-service', '--route', `/api/${onSample}`],
      [onThat, '--depends-on', `${onSample}-service`],
      [solo, '--route', `/api/${solo}`, '--auth', 'public'],
    ]) {
      const result = await devctl(grown.root, ['new', 'service', ...args]);
      if (result.code !== 0) throw new Error(`new service ${args[0]} failed: ${said(result)}`);
    }
    const parent = tempDir('devctl-init-grown-lean-');
    lean = { root: join(parent.path, 'grown-lean'), cleanup: parent.cleanup };
    made = await devctl(grown.root, ['init', lean.root, '--no-samples'], {
      env: gitIdentity,
      timeoutMs: 120_000,
    });
  }, 240_000);
  afterAll(() => {
    lean?.cleanup();
    grown?.cleanup();
  });

  it('leaves out, with the samples, each service that needs one (directly or not), and says so', () => {
    expect(made.code, said(made)).toBe(0);
    expect(made.stdout).toContain(`  also left out ${onSample}-service: it depends on data-service\n`);
    expect(made.stdout).toContain(`  also left out ${onThat}-service: it depends on ${onSample}-service\n`);
    expect(made.stdout).not.toContain(`also left out ${solo}-service`);
    expect(made.stdout).toMatch(new RegExp(`left out: .*services/${onSample}/.*services/${onThat}/`));
    expect(existsSync(join(lean.root, 'services', onSample))).toBe(false);
    expect(existsSync(join(lean.root, 'services', onThat))).toBe(false);
    expect(existsSync(join(lean.root, 'services', solo, 'package.json'))).toBe(true);
  });

  it('keeps a service that needs no sample in every list, and leaves no trace of those left out', async () => {
    expect(made.code, said(made)).toBe(0);
    const kept = servicesKeptWithoutSamples(grown.root);
    expect(kept).toContain(`${solo}-service`);
    expect(kept).not.toContain(`${onSample}-service`);
    const apps = loadText(leanFile('ecosystem.config.js')).apps;
    expect(apps.map((a) => a.name)).toEqual([...kept, 'devctl-logrotate']);
    const ecosystem = loadEcosystem(lean.root);
    expect(checkServiceLists(ecosystem)).toEqual([]);
    const routes = parseGeneratedRoutes(leanFile(REGISTRY_FILE)).map((r) => r.service);
    expect(routes).toContain(`${solo}-service`);
    expect(routes).not.toContain(`${onSample}-service`);
    expect(leanFile('services/api-gateway/.env.example')).toContain(
      `${serviceUrlVariable(`${solo}-service`)}=`,
    );
    for (const path of ['README.md', 'AGENTS.md'])
      expect(leanFile(path), path).toMatch(new RegExp(`\\| ${solo}-service +\\| services/${solo} `));
    // Not in the ecosystem, the gateway's registry or .env.example, the docs' tables, nor a package's
    // dependencies (the stack-test packages that listed them are left out as the samples' harnesses).
    for (const name of [onSample, onThat]) {
      const left = await run('git', ['grep', '-n', '-w', '-e', `${name}-service`, '-e', `@repo/${name}"`], {
        cwd: lean.root,
      });
      expect(left.stdout, `mentions of ${name}`).toBe('');
    }
  });
});
