// The files of a new service, in the shape of the sample services (services/form, services/auth):
// config schema, app that never listens, entry through runService, an example route, tests of both,
// .env.example. Written as code rather than template files because what a service depends on
// (--depends-on) adds a config variable, a client and a readiness check to several files.
import { localServiceUrl, serviceUrlVariable } from '@repo/stack-contract';
import { camelCase, pascalCase, type ServiceNames } from './names';

export interface ServiceSpec extends ServiceNames {
  port: number;
  /** PM2 names and ports of the services it calls, from ecosystem.config.js. */
  dependencies: { pm2Name: string; port: number }[];
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function packageJson(spec: ServiceSpec): string {
  return json({
    name: spec.packageName,
    version: '0.0.0',
    private: true,
    type: 'module',
    description: `${spec.pm2Name} (port ${spec.port})`,
    scripts: {
      build: 'service-build',
      dev: 'tsx watch --conditions=source src/index.ts',
      start: 'node --enable-source-maps dist/index.js',
      typecheck: 'tsc --noEmit',
      test: 'vitest run',
    },
    dependencies: { '@repo/service-kit': 'workspace:*', fastify: 'catalog:' },
    devDependencies: {
      '@types/node': 'catalog:',
      tsx: 'catalog:',
      typescript: 'catalog:',
      vitest: 'catalog:',
    },
  });
}

// Laid out as Biome formats it (short arrays on one line), so a generated service passes `pnpm lint`.
const TSCONFIG = `{
  "extends": "../../tsconfig.base.json",
  "include": ["src", "test", "vitest.config.ts"]
}
`;

// The workspace's one vitest configuration, as every service's vitest.config.ts uses it.
const VITEST_CONFIG = `import { packageConfig } from '../../packages/test-utils/vitest.shared.js';

export default packageConfig();
`;

function envExample(spec: ServiceSpec): string {
  const lines = [
    `# ${spec.pm2Name}: copy to .env (ignored by git) to override. Process env > ${spec.folder}/.env > root .env.`,
    `PORT=${spec.port}`,
    'HOST=127.0.0.1',
    '# fatal | error | warn | info | debug | trace | silent',
    'LOG_LEVEL=info',
    '# json | pretty',
    'LOG_FORMAT=json',
    'SHUTDOWN_TIMEOUT_MS=5000',
  ];
  for (const dep of spec.dependencies) {
    lines.push(
      `# Where ${dep.pm2Name} listens.`,
      `${serviceUrlVariable(dep.pm2Name)}=${localServiceUrl(dep.port)}`,
    );
  }
  if (spec.dependencies.length > 0) {
    lines.push(
      '# Bound on each call to another service (ms); past it the request answers 504.',
      'UPSTREAM_TIMEOUT_MS=5000',
    );
  }
  return `${lines.join('\n')}\n`;
}

function configTs(spec: ServiceSpec): string {
  const type = `${pascalCase(spec.name)}Config`;
  const fields =
    spec.dependencies.length === 0
      ? '  // Add the variables of this service here (with a default, or required), and to .env.example.\n'
      : `${spec.dependencies
          .map(
            (dep) =>
              `  /** Where ${dep.pm2Name} listens. */\n  ${serviceUrlVariable(dep.pm2Name)}: z.url({ protocol: /^https?$/ }).default('${localServiceUrl(dep.port)}'),\n`,
          )
          .join(
            '',
          )}  /** Bound on each call to another service, so a hung one becomes a 504 instead of a hung request. */\n  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),\n`;
  // How a setting shared with another service is declared (issue 15): in the schemas, not in devctl.
  const shared =
    "  // A value that must equal another service's (a key one signs with and the other verifies with):\n" +
    "  // KEY: mustMatch('<group>', z.string().min(32)), importing mustMatch from '@repo/service-kit', with\n" +
    '  // the same group in the other schema; `pnpm devctl diagnose` then reports when the two differ.\n';
  return `import { baseConfigSchema, z } from '@repo/service-kit';

/** ${spec.pm2Name} configuration; every variable is listed with its default in .env.example. */
export const configSchema = baseConfigSchema(${spec.port}).extend({
${fields}${shared}});

export type ${type} = z.output<typeof configSchema>;
`;
}

function appTs(spec: ServiceSpec): string {
  const type = `${pascalCase(spec.name)}Config`;
  const hasDeps = spec.dependencies.length > 0;
  const clients = spec.dependencies
    .map(
      (dep) => `  const ${camelCase(dep.pm2Name)} = createServiceClient({
    name: '${dep.pm2Name}',
    baseUrl: config.${serviceUrlVariable(dep.pm2Name)},
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  });
`,
    )
    .join('');
  // Biome's layout: one element on one line when it fits, several objects one per line.
  const checks = spec.dependencies.map(
    (dep) => `{ name: '${dep.pm2Name}', check: () => ${camelCase(dep.pm2Name)}.get('/health') }`,
  );
  const oneLine = `    readiness: [${checks.join(', ')}],`;
  const readiness = !hasDeps
    ? `    // readiness: [{ name, check }] lists what GET /ready checks (another service's /health, a database).
`
    : `    // GET /ready answers 200 only when each of these answers its /health.
${
  checks.length === 1 && oneLine.length <= 110
    ? `${oneLine}\n`
    : `    readiness: [\n${checks.map((check) => `      ${check},\n`).join('')}    ],\n`
}`;
  return `import { createApp, ${hasDeps ? 'createServiceClient, ' : ''}type Logger } from '@repo/service-kit';
import type { FastifyInstance } from 'fastify';
import type { ${type} } from './config';
import { itemRoutes } from './routes/items';

export interface BuildAppOptions {
  config: ${type};
  logger: Logger;
}

/** ${spec.pm2Name}: builds the application; never listens (src/index.ts does, through runService). */
export function buildApp({ ${hasDeps ? 'config, ' : ''}logger }: BuildAppOptions): FastifyInstance {
${clients}  const app = createApp({
    service: '${spec.pm2Name}',
    logger,
${readiness}  });
  app.register(itemRoutes);
  return app;
}
`;
}

function indexTs(spec: ServiceSpec): string {
  return `import { runService } from '@repo/service-kit';
import { buildApp } from './app';
import { configSchema } from './config';

// The one place the service listens: config validated (exit 78 naming a bad variable), graceful
// shutdown, and 'ready' sent to PM2 once listening.
await runService({
  name: '${spec.pm2Name}',
  schema: configSchema,
  serviceDir: new URL('..', import.meta.url),
  build: ({ config, logger }) => buildApp({ config, logger }),
});
`;
}

const ITEMS_TS = `import { randomUUID } from 'node:crypto';
import { type FastifyPluginAsyncZod, notFound, z } from '@repo/service-kit';

const newItemBody = z.strictObject({ name: z.string().trim().min(1).max(200) });

const item = z.strictObject({ id: z.uuid(), name: z.string(), createdAt: z.iso.datetime() });
export type Item = z.output<typeof item>;

/**
 * An example resource, to replace with this service's own: items kept in memory, so they are lost
 * on restart. Shows the house rules: a plugin whose routes declare their schemas -- the input (a
 * 400 naming each bad field) and the answer (an answer that breaks it is a 500 logged with the
 * route and the field, never a silent wrong body) -- errors thrown as HttpErrors (answered
 * \`{ message }\`), 201 for a creation.
 */
export const itemRoutes: FastifyPluginAsyncZod = async (app) => {
  const items = new Map<string, Item>();

  app.get(
    '/items',
    { schema: { response: { 200: z.strictObject({ items: z.array(item) }) } } },
    async () => ({
      items: [...items.values()],
    }),
  );

  app.get(
    '/items/:id',
    { schema: { params: z.strictObject({ id: z.string() }), response: { 200: item } } },
    async (req) => {
      const found = items.get(req.params.id);
      if (!found) throw notFound(\`item \${JSON.stringify(req.params.id.slice(0, 64))} not found\`);
      return found;
    },
  );

  app.post('/items', { schema: { body: newItemBody, response: { 201: item } } }, async (req, reply) => {
    const created: Item = { id: randomUUID(), name: req.body.name, createdAt: new Date().toISOString() };
    items.set(created.id, created);
    reply.code(201);
    return created;
  });
};
`;

function routesTest(spec: ServiceSpec): string {
  return `import { createLogger } from '@repo/service-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { configSchema } from '../src/config';

// app.inject: the routes without a port or another process.
const app = buildApp({
  config: configSchema.parse({}),
  logger: createLogger({ service: 'test', level: 'silent' }),
});
afterAll(() => app.close());

describe('${spec.pm2Name} routes', () => {
  it('answers GET /health with its name', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', service: '${spec.pm2Name}' });
  });

  it('creates an item (201) and lists it', async () => {
    const created = await app.inject({ method: 'POST', url: '/items', payload: { name: '  first  ' } });
    expect(created.statusCode).toBe(201);
    const item = created.json();
    expect(item).toMatchObject({ id: expect.any(String), name: 'first' });
    const list = await app.inject({ method: 'GET', url: '/items' });
    expect(list.json().items).toContainEqual(item);
    expect((await app.inject({ method: 'GET', url: \`/items/\${item.id}\` })).json()).toEqual(item);
  });

  it('answers 400 naming each bad field, and an unknown one', async () => {
    const res = await app.inject({ method: 'POST', url: '/items', payload: { name: '', colour: 'red' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toMatchObject({ name: expect.any(String), colour: 'unknown field' });
  });

  it('answers 404 {message} for an unknown item', async () => {
    const res = await app.inject({ method: 'GET', url: '/items/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ message: 'item "nope" not found' });
  });
});
`;
}

function configTest(spec: ServiceSpec): string {
  const bad: [string, string][] = [
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
  ];
  for (const dep of spec.dependencies) bad.push([serviceUrlVariable(dep.pm2Name), 'not a url']);
  if (spec.dependencies.length > 0) bad.push(['UPSTREAM_TIMEOUT_MS', 'soon']);
  const defaults = [
    `    expect(config.PORT).toBe(${spec.port});`,
    ...spec.dependencies.map(
      (dep) => `    expect(config.${serviceUrlVariable(dep.pm2Name)}).toBe('${localServiceUrl(dep.port)}');`,
    ),
  ].join('\n');
  return `import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@repo/service-kit';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config';

// A folder without .env files, so only the variables given here count.
const emptyDir = mkdtempSync(join(tmpdir(), '${spec.name}-config-'));
const load = (env: Record<string, string>) =>
  loadConfig(configSchema, { service: '${spec.pm2Name}', serviceDir: emptyDir, rootDir: emptyDir, env });

function problemsOf(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.variable);
    throw error;
  }
  throw new Error(\`\${JSON.stringify(env)} was accepted\`);
}

describe('${spec.pm2Name} config', () => {
  it('defaults to port ${spec.port}', () => {
    const { config } = load({});
${defaults}
  });

  it.each([
${bad.map(([variable, value]) => `    [{ ${variable}: '${value}' }, '${variable}'],`).join('\n')}
  ])('refuses %j', (env, variable) => {
    expect(problemsOf(env)).toEqual([variable]);
  });
});
`;
}

/** Every file of the new service, by path relative to its folder. */
export function serviceFiles(spec: ServiceSpec): Record<string, string> {
  return {
    'package.json': packageJson(spec),
    'tsconfig.json': TSCONFIG,
    'vitest.config.ts': VITEST_CONFIG,
    '.env.example': envExample(spec),
    // PM2 writes logs/out.log and logs/error.log here; the root .gitignore ignores them too, this
    // keeps them out of git wherever the folder goes.
    '.gitignore': 'logs/\n',
    'src/config.ts': configTs(spec),
    'src/app.ts': appTs(spec),
    'src/index.ts': indexTs(spec),
    'src/routes/items.ts': ITEMS_TS,
    'test/routes.test.ts': routesTest(spec),
    'test/config.test.ts': configTest(spec),
  };
}
