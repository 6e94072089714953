// Issue 15, items 1 and 5, on the real services: auth-service signing tokens with one JWT_SECRET
// and api-gateway verifying with another (every protected call answers 401), a service URL on the
// wrong port, and a .env edited to a value the next start would refuse. Four real services
// (data, auth, form, gateway), their TypeScript bundled as `pnpm build` does (the repository's
// own build when it is fresh), run from a temporary project root
// under a PM2 daemon of a private PM2_HOME; the real devctl bin diagnoses them. No secret value may
// appear in any output.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  createPm2Home,
  freePorts,
  isFreshBuild,
  type Pm2Home,
  repoRoot,
  tempDir,
  waitForHttp,
} from '@repo/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../src/diagnose/render';
import type { DiagnoseReport } from '../src/diagnose/types';
import { devctlBin, parseJson, pm2Bin, type RunResult } from './fixtures/harness';

const run = promisify(execFile);
const repo = repoRoot();
const kitBuild = join(repo, 'packages', 'service-kit', 'bin', 'service-build.mjs');

const SECRET_AUTH = 'auth-signing-key-0123456789-abcdefghijklmnop';
const SECRET_GATEWAY = 'gateway-verify-key-9876543210-zyxwvutsrqpon';

interface Finding {
  kind: string;
  service: string;
  severity: string;
  summary: string;
  evidence: { service: string; stream: string; text: string }[];
  location: { file: string; line: number } | null;
  next: string;
}

const SERVICES = [
  { name: 'data-service', folder: 'data', dependsOn: [] as string[] },
  { name: 'auth-service', folder: 'auth', dependsOn: ['data-service'] },
  { name: 'form-service', folder: 'form', dependsOn: ['data-service'] },
  { name: 'api-gateway', folder: 'api-gateway', dependsOn: ['auth-service', 'form-service'] },
];

let root: string;
let cleanupRoot: () => void;
let home: Pm2Home;
let ports: Record<string, number>;
/** `devctl env` of every service, run once all are up. */
let envJson: RunResult;

function env(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...home.env, DEVCTL_ROOT: root, NO_COLOR: '1' };
}

function devctl(...args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [devctlBin, ...args],
      { env: env(), cwd: root, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

const envFile = (folder: string) => join(root, 'services', folder, '.env');
const url = (name: string, path: string) => `http://127.0.0.1:${ports[name]}${path}`;

/** The 1-based line of `NAME=` in a file. */
function lineOf(file: string, name: string): number {
  return (
    readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((line) => line.startsWith(`${name}=`)) + 1
  );
}

/** Sets an mtime after the processes' start, as an edit made now would (PM2 start times have ms). */
function touchLater(file: string) {
  const later = new Date(Date.now() + 5000);
  utimesSync(file, later, later);
}

async function waitUntil(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function expectNoSecret(...outputs: string[]) {
  for (const output of outputs) {
    expect(output).not.toContain(SECRET_AUTH);
    expect(output).not.toContain(SECRET_GATEWAY);
  }
}

beforeAll(async () => {
  const dir = tempDir('devctl-config-');
  root = dir.path;
  cleanupRoot = dir.cleanup;
  writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: []\n');
  writeFileSync(join(root, 'package.json'), '{"name":"config-fixture","private":true}\n');
  const list = await freePorts(SERVICES.length);
  ports = Object.fromEntries(SERVICES.map((s, i) => [s.name, list[i] as number]));
  // Each real service, built from its TypeScript as `pnpm build` does (the kit's service-build),
  // with its npm packages from the repository's install.
  await Promise.all(
    SERVICES.map(async ({ folder }) => {
      const from = join(repo, 'services', folder);
      const to = join(root, 'services', folder);
      mkdirSync(to, { recursive: true });
      cpSync(join(from, 'src'), join(to, 'src'), { recursive: true });
      for (const file of ['package.json', '.env.example']) cpSync(join(from, file), join(to, file));
      symlinkSync(join(from, 'node_modules'), join(to, 'node_modules'), 'dir');
      if (isFreshBuild(from)) cpSync(join(from, 'dist'), join(to, 'dist'), { recursive: true });
      else await run(process.execPath, [kitBuild, 'src/index.ts'], { cwd: to, timeout: 60_000 });
    }),
  );
  const apps = SERVICES.map((s) => ({
    name: s.name,
    namespace: 'config-fixture',
    cwd: join(root, 'services', s.folder),
    script: 'dist/index.js',
    node_args: '--enable-source-maps',
    out_file: join(root, 'services', s.folder, 'logs', 'out.log'),
    error_file: join(root, 'services', s.folder, 'logs', 'error.log'),
    merge_logs: true,
    time: true,
    wait_ready: true,
    listen_timeout: 20_000,
    min_uptime: 3000,
    max_restarts: 3,
    stop_exit_codes: [78],
    autorestart: true,
    pmx: false,
    automation: false,
    env: { NODE_ENV: 'development', PORT: String(ports[s.name]) },
    depends_on: s.dependsOn,
  }));
  writeFileSync(
    join(root, 'ecosystem.config.js'),
    `// Generated by diagnose-config.test.ts.\nmodule.exports = ${JSON.stringify({ apps }, null, 2)};\n`,
  );
  // Where the services find each other, and the two keys that do not match.
  writeFileSync(
    envFile('auth'),
    `# auth-service\nDATA_SERVICE_URL=${url('data-service', '')}\nJWT_SECRET=${SECRET_AUTH}\n`,
  );
  writeFileSync(envFile('form'), `DATA_SERVICE_URL=${url('data-service', '')}\n`);
  writeFileSync(
    envFile('api-gateway'),
    [
      '# api-gateway',
      `AUTH_SERVICE_URL=${url('auth-service', '')}`,
      `FORM_SERVICE_URL=${url('form-service', '')}`,
      `DATA_SERVICE_URL=${url('data-service', '')}`,
      `JWT_SECRET=${SECRET_GATEWAY}`,
      '',
    ].join('\n'),
  );

  home = createPm2Home('devctl-config-pm2-');
  for (const wave of [['data-service'], ['auth-service', 'form-service'], ['api-gateway']]) {
    await run(process.execPath, [pm2Bin, 'start', 'ecosystem.config.js', '--only', wave.join(',')], {
      env: env(),
      cwd: root,
      timeout: 60_000,
    });
    for (const name of wave) await waitForHttp(url(name, '/health'), { timeoutMs: 30_000 });
  }
  // `devctl env` dry-runs each service's configuration (--print-config) with no budget and caches
  // the passes, as `devctl start`'s preflight does before a user's first diagnose. diagnose gives its
  // dry runs 10 s in all and reports the rest as not checked: four cold ones on a loaded machine
  // took longer, and the first diagnose found no mismatch (exit 0).
  envJson = await devctl('env', ...SERVICES.map((s) => s.name), '--json');
}, 180_000);

afterAll(async () => {
  await home?.cleanup();
  cleanupRoot?.();
});

describe('diagnose: configuration that must agree, and configuration on disk (real services)', () => {
  it('a token auth-service issued is refused by the gateway: the gateway logs why, diagnose names both keys, files and lines', async () => {
    const signup = await fetch(url('api-gateway', '/api/auth/signup'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ann@example.org', password: 'a-long-password-1' }),
    });
    expect(signup.status).toBe(201);
    const { token } = (await signup.json()) as { token: string };
    const me = await fetch(url('api-gateway', '/api/auth/me'), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(401);

    // The gateway says why at warn, never with the token (PM2 writes its log file a moment later).
    const logFile = join(root, 'services', 'api-gateway', 'logs', 'out.log');
    await waitUntil('the refusal in the gateway log', () =>
      readFileSync(logFile, 'utf8').includes('token refused'),
    );
    const gatewayLog = readFileSync(logFile, 'utf8');
    const refusal = gatewayLog.split('\n').find((line) => line.includes('token refused'));
    expect(refusal).toContain('"level":40');
    expect(refusal).toContain('signature does not match');
    expect(gatewayLog).not.toContain(token);
    expect(gatewayLog).not.toContain(token.split('.')[2] as string);

    const json = await devctl('diagnose', '--json');
    const text = await devctl('diagnose');
    expect(json.code).toBe(1);
    expect(text.code).toBe(1);
    const report = parseJson<{ healthy: boolean; findings: Finding[] }>(json);
    const first = report.findings[0] as Finding;
    expect(first).toMatchObject({ kind: 'config-mismatch', service: 'api-gateway', severity: 'error' });
    const authAt = `services/auth/.env:${lineOf(envFile('auth'), 'JWT_SECRET')}`;
    const gatewayAt = `services/api-gateway/.env:${lineOf(envFile('api-gateway'), 'JWT_SECRET')}`;
    expect(first.summary).toContain('JWT_SECRET');
    expect(first.summary).toContain(authAt);
    expect(first.summary).toContain(gatewayAt);
    expect(first.summary).toMatch(/auth-service .*sha256:[0-9a-f]{8}.* api-gateway .*sha256:[0-9a-f]{8}/);
    expect(first.location).toMatchObject({
      file: 'services/api-gateway/.env',
      line: lineOf(envFile('api-gateway'), 'JWT_SECRET'),
    });
    expect(first.next).toContain('pnpm devctl restart auth-service api-gateway --wait');
    expect(first.next).toContain('or remove it from each: they then share .secrets/jwt-secret');
    // The symptom links to it: the gateway's refusal is part of the evidence.
    expect(first.evidence.some((e) => e.service === 'api-gateway' && e.text.includes('token refused'))).toBe(
      true,
    );
    expect(text.stdout).toContain(authAt);
    expect(text.stdout).toContain(gatewayAt);
    expectNoSecret(json.stdout, json.stderr, text.stdout, text.stderr);

    // Asked about auth-service alone (api-gateway is not in its dependency chain): still found,
    // on the service asked about.
    const named = parseJson<{ findings: Finding[] }>(await devctl('diagnose', 'auth-service', '--json'));
    expect(named.findings[0]).toMatchObject({ kind: 'config-mismatch', service: 'auth-service' });
    expect(named.findings[0]?.summary).toContain(gatewayAt);

    // devctl env: the hashes side by side, so the difference shows by eye, and no value.
    const envText = await devctl('env', 'auth-service', 'api-gateway');
    expect(envJson.code).toBe(0);
    const services = parseJson<{
      services: { name: string; variables: { name: string; value: string; hash: string }[] }[];
    }>(envJson).services;
    const hashes = ['auth-service', 'api-gateway'].map((name) =>
      services.find((s) => s.name === name)?.variables.find((v) => v.name === 'JWT_SECRET'),
    );
    expect(hashes.map((v) => v?.value)).toEqual(['****', '****']);
    expect(hashes[0]?.hash).toMatch(/^sha256:[0-9a-f]{8}$/);
    expect(hashes[1]?.hash).toMatch(/^sha256:[0-9a-f]{8}$/);
    expect(hashes[0]?.hash).not.toBe(hashes[1]?.hash);
    expect(envText.stdout).toContain(`**** ${hashes[0]?.hash}`);
    expectNoSecret(envJson.stdout, envJson.stderr, envText.stdout, envText.stderr);
  });

  it('the same key on disk but not yet applied, and a service URL on the wrong port: both named with files and lines', async () => {
    const wrongPort = ports['data-service'] as number;
    const gatewayEnv = readFileSync(envFile('api-gateway'), 'utf8')
      .replace(`JWT_SECRET=${SECRET_GATEWAY}`, `JWT_SECRET=${SECRET_AUTH}`)
      .replace(
        `FORM_SERVICE_URL=${url('form-service', '')}`,
        `FORM_SERVICE_URL=http://127.0.0.1:${wrongPort}`,
      );
    writeFileSync(envFile('api-gateway'), gatewayEnv);
    touchLater(envFile('api-gateway'));

    const json = await devctl('diagnose', '--json');
    const report = parseJson<{ findings: Finding[] }>(json);
    // The keys agree on disk now: no mismatch about them; the running gateway needs a restart.
    expect(
      report.findings.some((f) => f.kind === 'config-mismatch' && f.summary.includes('JWT_SECRET')),
    ).toBe(false);
    const url_ = report.findings.find(
      (f) => f.kind === 'config-mismatch' && f.summary.includes('FORM_SERVICE_URL'),
    );
    const urlLine = lineOf(envFile('api-gateway'), 'FORM_SERVICE_URL');
    expect(url_).toMatchObject({
      service: 'api-gateway',
      severity: 'error',
      location: { file: 'services/api-gateway/.env', line: urlLine },
    });
    expect(url_?.summary).toContain(`services/api-gateway/.env:${urlLine}`);
    expect(url_?.summary).toContain(
      `points at port ${wrongPort}, but form-service listens on port ${ports['form-service']}`,
    );
    expect(url_?.summary).toMatch(/PORT, ecosystem\.config\.js:\d+/);
    expect(url_?.next).toContain(
      `set FORM_SERVICE_URL=http://127.0.0.1:${ports['form-service']} in services/api-gateway/.env`,
    );
    const stale = report.findings.find((f) => f.kind === 'config-stale');
    expect(stale).toMatchObject({
      service: 'api-gateway',
      severity: 'warning',
      next: expect.stringContaining('pnpm devctl restart api-gateway --wait'),
    });
    expect(stale?.summary).toContain('services/api-gateway/.env');
    expectNoSecret(json.stdout, json.stderr);
  });

  it('a .env edited to a value the next start would refuse: an error with the variable, file and line, while the process still runs', async () => {
    writeFileSync(envFile('auth'), `${readFileSync(envFile('auth'), 'utf8')}JWT_TTL=forever\n`);
    touchLater(envFile('auth'));
    const json = await devctl('diagnose', 'auth-service', '--json');
    expect(json.code).toBe(1);
    const report = parseJson<{ healthy: boolean; checked: string[]; findings: Finding[] }>(json);
    // The same report as the text the bin prints (its text is checked above): one dry run less.
    const text = { stdout: renderReport(JSON.parse(json.stdout) as DiagnoseReport), stderr: '' };
    expect(report.healthy).toBe(false);
    const line = lineOf(envFile('auth'), 'JWT_TTL');
    const finding = report.findings[0] as Finding;
    expect(finding).toMatchObject({
      kind: 'config-error',
      service: 'auth-service',
      severity: 'error',
      location: { file: 'services/auth/.env', line },
    });
    expect(finding.summary).toContain(`JWT_TTL has an invalid value "forever"`);
    expect(finding.summary).toContain(`services/auth/.env:${line}`);
    expect(finding.summary).toMatch(
      /the running process \(pid \d+, started [\d:]+\) still has the old value/,
    );
    expect(finding.summary).toContain('at its next crash or at boot');
    expect(finding.next).toBe(
      'fix JWT_TTL in services/auth/.env:' +
        line +
        ' (see services/auth/.env.example), then pnpm devctl restart auth-service --wait',
    );
    // The process is still online: PM2 has not restarted it.
    expect(report.checked.find((line) => line.startsWith('auth-service:'))).toMatch(/^auth-service: online/);
    expect(text.stdout).toContain(`services/auth/.env:${line}`);
    expectNoSecret(json.stdout, json.stderr, text.stdout, text.stderr);

    // A secret refused on disk is named, never shown.
    writeFileSync(
      envFile('auth'),
      readFileSync(envFile('auth'), 'utf8')
        .replace('JWT_TTL=forever\n', '')
        .replace(SECRET_AUTH, 'short-secret-value'),
    );
    const secret = await devctl('diagnose', 'auth-service', '--json');
    const refused = parseJson<{ findings: Finding[] }>(secret).findings[0] as Finding;
    expect(refused).toMatchObject({ kind: 'config-error', service: 'auth-service' });
    expect(refused.summary).toContain('JWT_SECRET has an invalid value "****"');
    expect(secret.stdout).not.toContain('short-secret-value');
    expectNoSecret(secret.stdout, secret.stderr);
  });
});
