// The exported stack (deploy/compose.yaml, as committed and as the export generates it), run here
// as plain processes the way its containers would run it (there is no container engine on these
// machines): each backend from a folder laid out like its image (/app: dist/, a package.json, and
// node_modules holding only the image's RUNTIME_PACKAGES -- none for most),
// with the command and environment of deploy/compose.yaml (NODE_ENV=production from the Dockerfile,
// the required secrets given values, the volumes as temporary folders), started in depends_on order,
// each gated by running its own generated healthcheck (/ready) until it passes, as
// `condition: service_healthy` does. What stands in for the network: each service's name resolves to
// 127.0.0.1 on a free port (its URL variables are rewritten accordingly), and PostgreSQL is a
// throwaway server. Then a user's request crosses every hop: sign-up, a form, a submission, and its
// confirmation email in the outbox volume.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import {
  freePorts,
  repoRoot,
  type SpawnedProcess,
  spawnProcess,
  type TempDir,
  tempDir,
  waitForHttp,
} from '@repo/test-utils';
import { startPostgres, type TestPostgres } from '@repo/test-utils/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { HEALTH_SCRIPT } from '../src/export/dockerfile';

interface ComposeService {
  build?: { args: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
}

const repo = repoRoot();
let compose: { services: Record<string, ComposeService> };
let backends: [string, ComposeService][] = [];
const SECRETS: Record<string, string> = {
  JWT_SECRET: 'run-test-jwt-secret-0123456789abcdef0123456789',
  POSTGRES_PASSWORD: 'unused-by-the-trust-server',
};

/** Compose's interpolation of `${NAME:?message}` and `${NAME:-default}` from deploy/.env's values. */
function interpolate(value: string, dotenv: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}/g,
    (_whole, name: string, kind?: string, rest?: string) => {
      const set = dotenv[name];
      if (set !== undefined && set !== '') return set;
      if (kind === '?') throw new Error(`compose would refuse: ${name} is required (${rest})`);
      return kind === '-' ? (rest ?? '') : '';
    },
  );
}

/** Runs a healthcheck `test` (["CMD", ...]) as Docker does, in the service's folder and environment. */
function healthcheckPasses(test: string[], cwd: string, env: NodeJS.ProcessEnv): boolean {
  expect(test[0]).toBe('CMD');
  const [command, ...args] = test.slice(1) as [string, ...string[]];
  const result = spawnSync(command === 'node' ? process.execPath : command, args, {
    cwd,
    env,
    timeout: 10_000,
  });
  return result.status === 0;
}

/** Whether `url` answers 200 now (a look from the test process, no process started). */
async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

describe('the exported stack runs as its containers would', () => {
  let dir: TempDir;
  let postgres: TestPostgres;
  const running = new Map<string, SpawnedProcess>();
  const ports = new Map<string, number>();
  const envs = new Map<string, NodeJS.ProcessEnv>();
  const apps = new Map<string, string>();
  let outbox = '';

  beforeAll(async () => {
    // The committed compose file, the one users run: export.test.ts checks that `devctl export
    // compose` on the real ecosystem writes exactly it (exit 0, no problem). Generating it again here
    // cost a dry run of every service three times (~15 CPU-s on a fresh clone, no export cache).
    compose = parseYaml(readFileSync(join(repo, 'deploy', 'compose.yaml'), 'utf8')) as typeof compose;
    backends = Object.entries(compose.services).filter(([, service]) => service.build);
    expect(backends.length).toBeGreaterThan(0);
    dir = tempDir('devctl-export-run-');
    postgres = await startPostgres({ database: 'devstack' });
    const free = await freePorts(backends.length);
    for (const [index, [name]] of backends.entries()) ports.set(name, free[index] as number);

    for (const [name, service] of backends) {
      const args = service.build?.args ?? {};
      // The image's /app: dist/, the package.json the runtime-deps stage writes, RUNTIME_PACKAGES only.
      const app = join(dir.path, name, 'app');
      mkdirSync(app, { recursive: true });
      cpSync(join(repo, args.SERVICE_DIR as string, 'dist'), join(app, 'dist'), { recursive: true });
      writeFileSync(join(app, 'package.json'), '{"private":true,"type":"module"}\n');
      for (const spec of (args.RUNTIME_PACKAGES ?? '').split(' ').filter(Boolean)) {
        const packageName = spec.replace(/@[^@/]+$/, '');
        const installed = realpathSync(join(repo, args.SERVICE_DIR as string, 'node_modules', packageName));
        mkdirSync(dirname(join(app, 'node_modules', packageName)), { recursive: true });
        symlinkSync(installed, join(app, 'node_modules', packageName), 'dir');
      }
      apps.set(name, app);

      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, NODE_ENV: 'production' };
      for (const [variable, raw] of Object.entries(service.environment ?? {})) {
        let value = interpolate(raw, SECRETS);
        // The network: a backend's name is its host name; here each listens on 127.0.0.1:<free port>.
        value = value.replace(/^http:\/\/([a-z0-9-]+):\d+$/, (whole, host: string) =>
          ports.has(host) ? `http://127.0.0.1:${ports.get(host)}` : whole,
        );
        if (variable === 'DATABASE_URL') {
          const url = new URL(value);
          expect(url.hostname).toBe('postgres');
          const local = new URL(postgres.url);
          url.host = local.host;
          url.username = local.username;
          url.password = '';
          value = url.toString();
        }
        env[variable] = value;
      }
      env.PORT = String(ports.get(name));
      for (const mount of service.volumes ?? []) {
        const [, mountPath] = mount.split(':') as [string, string];
        const local = join(dir.path, name, 'volumes', mountPath);
        mkdirSync(local, { recursive: true });
        for (const [variable, value] of Object.entries(env)) if (value === mountPath) env[variable] = local;
        if (name === 'email-service') outbox = local;
      }
      envs.set(name, env);
    }

    // Start in depends_on order; a dependent starts once every dependency's healthcheck passes.
    const healthy = new Set<string>(['postgres']);
    const pending = new Set(backends.map(([name]) => name));
    while (pending.size > 0) {
      const wave = [...pending].filter((name) =>
        Object.keys(compose.services[name]?.depends_on ?? {}).every((dependency) => healthy.has(dependency)),
      );
      expect(wave.length, `nothing can start among ${[...pending].join(', ')}`).toBeGreaterThan(0);
      for (const name of wave) {
        const [command, ...args] = (compose.services[name]?.command ?? []) as [string, ...string[]];
        expect(command).toBe('node');
        running.set(
          name,
          spawnProcess(process.execPath, args, { cwd: apps.get(name), env: envs.get(name), name }),
        );
      }
      for (const name of wave) {
        const deadline = Date.now() + 60_000;
        const test = compose.services[name]?.healthcheck?.test as string[];
        // The healthcheck's own process (a node start each) runs once the service answers /ready to a
        // look from here: polling with that process alone cost more CPU than the services' start.
        const ready = `http://127.0.0.1:${ports.get(name)}/ready`;
        while (
          !(
            (await answers200(ready)) &&
            healthcheckPasses(test, apps.get(name) as string, envs.get(name) as NodeJS.ProcessEnv)
          )
        ) {
          const process_ = running.get(name) as SpawnedProcess;
          if (Date.now() > deadline)
            throw new Error(`${name} never passed its healthcheck:\n${process_.output()}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        healthy.add(name);
        pending.delete(name);
      }
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...running.values()].map((process_) => process_.kill()));
    await postgres?.stop();
    dir?.cleanup();
  });

  it('every backend passes its compose healthcheck (/ready) and the image HEALTHCHECK (/health)', () => {
    expect([...running.keys()].sort()).toEqual(backends.map(([name]) => name).sort());
    for (const [name] of backends) {
      const env = envs.get(name) as NodeJS.ProcessEnv;
      expect(
        healthcheckPasses(['CMD', 'node', '-e', HEALTH_SCRIPT], apps.get(name) as string, env),
        name,
      ).toBe(true);
      // Production settings were applied, not the development defaults.
      expect(env.NODE_ENV).toBe('production');
    }
  });

  it('data-service runs on PostgreSQL, and only the services with RUNTIME_PACKAGES have a node_modules', () => {
    const data = envs.get('data-service') as NodeJS.ProcessEnv;
    expect(data.DATABASE_URL).toMatch(/^postgres:\/\//);
    for (const [name, service] of backends) {
      const hasModules = readdirSync(apps.get(name) as string).includes('node_modules');
      expect(hasModules, name).toBe(Boolean(service.build?.args.RUNTIME_PACKAGES));
    }
  });

  it('a request crosses every hop: sign-up, a form, a submission, its confirmation email in the outbox volume', async () => {
    const gateway = `http://127.0.0.1:${ports.get('api-gateway')}`;
    const json = { 'content-type': 'application/json' };
    const signup = await fetch(`${gateway}/api/auth/signup`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email: `export-${Date.now()}@example.org`, password: 'correct-horse-1' }),
    });
    expect(signup.status, await signup.clone().text()).toBe(201);
    const { token } = (await signup.json()) as { token: string };
    const form = await fetch(`${gateway}/api/forms`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${token}` },
      body: JSON.stringify({
        title: 'Exported stack',
        fields: [{ name: 'name', label: 'Name', type: 'text', required: true }],
      }),
    });
    expect(form.status, await form.clone().text()).toBe(201);
    const { id } = (await form.json()) as { id: string };
    const submission = await fetch(`${gateway}/api/forms/${id}/submissions`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ answers: { name: 'Ada' } }),
    });
    expect(submission.status, await submission.clone().text()).toBe(201);
    const deadline = Date.now() + 30_000;
    while (readdirSync(outbox).filter((file) => file.endsWith('.eml')).length === 0) {
      if (Date.now() > deadline)
        throw new Error(`no email in ${outbox}:\n${running.get('worker-service')?.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const [email] = readdirSync(outbox).filter((file) => file.endsWith('.eml'));
    expect(readFileSync(join(outbox, email as string), 'utf8')).toContain('Exported stack');
    await waitForHttp(`${gateway}/api/health`);
  });
});
